package client_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/phala-go/phala/internal/devnettest"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network"
)

// TestSubmitEgressOnDevnet relays a sim worker's heartbeats through a real
// node: accepted in order, and a second delivery of the same message comes
// back as mq.ErrDuplicate, which a relay counts as delivered.
func TestSubmitEgressOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, cl := devnettest.Start(t, ctx)
	alice := ed25519.NewKeyFromSeed(keyring.DevSeed("alice"))
	enclave := devnettest.RegisterSimNode(t, ctx, cl, alice, registryapi.RoleWorker).Identity
	sender := enclave.Public().(ed25519.PublicKey)

	for seq := uint64(1); seq <= 2; seq++ {
		last, err := cl.EgressSequence(ctx, sender)
		if err != nil || last != seq-1 {
			t.Fatalf("sequence before %d: %d, %v", seq, last, err)
		}
		anchor, err := cl.Anchor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg := mq.SignEgress(network.DevnetChainID, enclave, mq.Egress{
			Version: mq.EgressVersion, Sender: sender, Seq: seq, Topic: registryapi.TopicHeartbeat,
			Payload: codec.MustMarshal(registryapi.Heartbeat{Height: anchor.Height}),
		})
		if _, err := cl.SubmitEgress(ctx, alice, msg); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		if n, err := cl.Node(ctx, sender); err != nil || n.LastHeartbeat != anchor.Height {
			t.Fatalf("seq %d: last heartbeat %d, want %d (%v)", seq, n.LastHeartbeat, anchor.Height, err)
		}
		if _, err := cl.SubmitEgress(ctx, alice, msg); !errors.Is(err, mq.ErrDuplicate) {
			t.Fatalf("seq %d delivered twice: %v", seq, err)
		}
	}
}
