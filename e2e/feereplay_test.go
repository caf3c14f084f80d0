//go:build unix

package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/token"
)

// TestFailedTransferPaysItsFeeAndCannotBeReplayed is issue 12's replay on a
// one-validator network: a transfer its method refuses in a block (dave
// cannot afford it) pays its fee and uses its nonce, so the identical bytes
// broadcast again, even once dave can afford them, are refused.
//
// The node's own mempool refuses a transfer that would fail, so the test
// gets one into a block the way a careless or hostile mempool would: the
// node runs with mempool rechecks off and room for one transaction per
// block. Then a transaction queued across a commit is forgotten by the
// mempool's overlay, which admits a conflicting funding of dave and, on
// that funding, dave's transfer; in the block the funding fails (its nonce
// is taken) and so does dave's transfer. Whatever a mempool admits, the
// chain must charge for what it runs.
func TestFailedTransferPaysItsFeeAndCannotBeReplayed(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "net")
	base := freePortRange(t, 2)
	var layout struct {
		Homes []string `json:"homes"`
	}
	c.mustJSON(&layout, "testnet", "--validators", "1", "--out", out,
		"--base-port", strconv.Itoa(base), "--output", "json")
	home := layout.Homes[0]
	rpOneTxPerBlock(t, home, client.DefaultGasLimit)
	rpEditConfig(t, home, map[string]string{
		`recheck = true`:           `recheck = false`,
		`timeout_commit = "[^"]*"`: `timeout_commit = "1500ms"`,
	})
	url := "http://127.0.0.1:" + strconv.Itoa(base+1)
	node := newServer(t, "node", c.env, "node", "--home", home, "--output", "json")
	t.Cleanup(func() {
		if t.Failed() {
			logTail(t, filepath.Join(home, "logs", "cometbft.log"))
		}
	})
	node.start()
	c.waitHeight(node, url, 2, 90*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, carol := rpDevKey("alice"), rpDevKey("bob"), rpDevKey("carol")
	dave := ed25519.NewKeyFromSeed(keyring.DevSeed("e2e-dave"))
	daveAddr := rpAddr(dave)
	if _, err := cl.Transfer(ctx, alice, daveAddr, token.PHA(10), client.SendOptions{}); err != nil {
		t.Fatalf("funding dave: %v", err)
	}

	// Queue bob's fillers, then alice's transfer to carol behind them:
	// one block each, so it is still queued after the next commit.
	aliceNonce := rpAccount(ctx, t, cl, rpAddr(alice)).Nonce
	bobNonce := rpAccount(ctx, t, cl, rpAddr(bob)).Nonce
	for i := range uint64(4) {
		rpBroadcast(ctx, t, cl, rpSign(ctx, t, cl, bob, rpAddr(carol), token.PHA(1), bobNonce+i))
	}
	queued := rpSign(ctx, t, cl, alice, rpAddr(carol), token.PHA(1), aliceNonce)
	rpBroadcast(ctx, t, cl, queued)
	// Signed ahead, so that both reach the mempool within one block.
	funding := rpSign(ctx, t, cl, alice, daveAddr, token.PHA(200), aliceNonce)
	replayed := rpSign(ctx, t, cl, dave, rpAddr(bob), token.PHA(100), 0)
	rpWaitCommit(ctx, t, cl)
	if n := rpAccount(ctx, t, cl, rpAddr(alice)).Nonce; n != aliceNonce {
		t.Fatalf("alice's queued transfer ran too early (nonce %d); the fillers did not hold it", n)
	}
	rpBroadcast(ctx, t, cl, funding)
	rpBroadcast(ctx, t, cl, replayed)

	failed, err := cl.WaitTx(ctx, tx.Hash(replayed))
	if err != nil {
		t.Fatal(err)
	}
	if err := failed.Err(); !errors.Is(err, bankapi.ErrInsufficientFunds) {
		t.Fatalf("dave's transfer in block %d: %v, want insufficient funds", failed.Height, err)
	}
	if failed.Result.TxResult.GasUsed == 0 {
		t.Error("the failed transfer reports no gas used")
	}
	fee := rpSignedFee(t, replayed)
	after := rpAccount(ctx, t, cl, daveAddr)
	wantBalance, _ := token.PHA(10).Sub(fee)
	if after.Nonce != 1 || after.Balance != wantBalance {
		t.Fatalf("dave after the failed transfer: nonce %d, %s; want nonce 1, %s (10 PHA less the fee)",
			after.Nonce, after.Balance.PHAString(), wantBalance.PHAString())
	}

	// Funded now, dave could afford the transfer: its bytes must not run.
	if _, err := cl.Transfer(ctx, alice, daveAddr, token.PHA(200), client.SendOptions{}); err != nil {
		t.Fatalf("funding dave again: %v", err)
	}
	funded := rpAccount(ctx, t, cl, daveAddr)
	if _, err := cl.Broadcast(ctx, replayed); !errors.Is(err, tx.ErrNonceTooLow) {
		t.Fatalf("the same bytes again: %v, want nonce already used", err)
	}
	rpWaitCommit(ctx, t, cl)
	rpWaitCommit(ctx, t, cl)
	if got := rpAccount(ctx, t, cl, daveAddr); got != funded {
		t.Fatalf("dave changed after the replay: %+v → %+v", funded, got)
	}
}

func rpDevKey(name string) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(keyring.DevSeed(name)) }

func rpAddr(k ed25519.PrivateKey) address.Address {
	return address.FromPublicKey(k.Public().(ed25519.PublicKey))
}

// oneTxPerBlock limits the genesis block gas to gas, so that blocks of
// transactions with that gas limit carry one each.
func rpOneTxPerBlock(t *testing.T, home string, gas uint64) {
	t.Helper()
	path := filepath.Join(home, "config", "genesis.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	params, _ := g["consensus_params"].(map[string]any)
	block, _ := params["block"].(map[string]any)
	if block == nil {
		t.Fatalf("%s has no consensus_params.block", path)
	}
	block["max_gas"] = strconv.FormatUint(gas, 10)
	if raw, err = json.MarshalIndent(g, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editConfig replaces each pattern in home's config.toml, which must occur.
func rpEditConfig(t *testing.T, home string, edits map[string]string) {
	t.Helper()
	path := filepath.Join(home, "config", "config.toml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for pattern, repl := range edits {
		re := regexp.MustCompile(`(?m)^` + pattern + `$`)
		if !re.Match(raw) {
			t.Fatalf("%s has no line %q", path, pattern)
		}
		raw = re.ReplaceAll(raw, []byte(repl))
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rpAccount(ctx context.Context, t *testing.T, cl *client.Client, a address.Address) bankapi.AccountInfo {
	t.Helper()
	acc, err := cl.Account(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func rpSign(ctx context.Context, t *testing.T, cl *client.Client, from ed25519.PrivateKey, to address.Address, amount token.Amount, nonce uint64) []byte {
	t.Helper()
	raw, err := cl.Sign(ctx, from, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: amount}, client.SendOptions{Nonce: &nonce})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func rpBroadcast(ctx context.Context, t *testing.T, cl *client.Client, raw []byte) {
	t.Helper()
	if _, err := cl.Broadcast(ctx, raw); err != nil {
		t.Fatalf("broadcast: %v", err)
	}
}

// waitCommit returns once a block after the current one is committed.
func rpWaitCommit(ctx context.Context, t *testing.T, cl *client.Client) {
	t.Helper()
	start, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for {
		s, err := cl.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.SyncInfo.LatestBlockHeight > start.SyncInfo.LatestBlockHeight {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no block committed")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func rpSignedFee(t *testing.T, raw []byte) token.Amount {
	t.Helper()
	s, err := tx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s.Envelope.Fee
}
