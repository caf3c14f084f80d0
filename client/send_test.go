package client_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/internal/devnettest"
	"github.com/phala-go/phala/token"
)

// TestSendRetriesATakenNonce: another sender of the same account (a
// devnet's relay sends as the pool owner) has a transaction waiting in the
// mempool with the nonce Send reads from the committed state; the node
// refuses Send's first signing, and Send signs again after the next block.
func TestSendRetriesATakenNonce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, cl := devnettest.Start(t, ctx)
	alice, bob := devnettest.DevKey("alice"), devnettest.DevKey("bob")
	to := address.FromPublicKey(bob.Public().(ed25519.PublicKey))
	before, err := cl.Account(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	// The other sender's transaction: in the mempool, not yet committed.
	raw, err := cl.Sign(ctx, alice, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: token.PHA(1)}, client.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := cl.Broadcast(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Send(ctx, alice, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: token.PHA(2)}); err != nil {
		t.Fatalf("send behind a pending transaction of the same account: %v", err)
	}
	if _, err := cl.WaitTx(ctx, first.Hash); err != nil {
		t.Fatal(err)
	}
	after, err := cl.Account(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	want, err := before.Balance.Add(token.PHA(3))
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Balance; got != want {
		t.Fatalf("bob has %s, want %s: both transfers", got, want)
	}
}
