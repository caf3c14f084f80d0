package contracts_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm/wasmbuild"
)

// TestSecretSaleOnDevnet: on a devnet with two workers, an owner prices a
// secret; a purchase with too little value reverts and the chain sends
// the value back; a purchase with more than the price gets the grant (the
// buyer reads the secret) and the change back; the owner withdraws the
// proceeds. Every balance moves exactly as computed from the gas the
// results report, and both workers report byte-identical results for
// every block (the chain records their agreement, no discrepancy).
func TestSecretSaleOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and two workers, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	buildToken(t) // the shared build directory
	dir, _ := filepath.Abs("../../../contracts/secretstore")
	code, err := wasmbuild.NewCache(filepath.Join(cacheDir, "build")).Code(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	d := teedevnet.Start(t, ctx, devworker.WorkerRoles...)
	cl, workers := d.Client, d.WorkerURLs()
	owner, buyer := devKey("alice"), devKey("bob")
	ownerAddr, buyerAddr := addrOf(owner), addrOf(buyer)
	p, err := cl.ContractParams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up, err := cl.Upload(ctx, owner, code, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := cl.Instantiate(ctx, owner, up.CodeHash, client.InstantiateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitKey(t, ctx, cl, inst.Contract)
	account := contractsapi.ContractAccount(inst.Contract)
	price, change := token.PHA(5), token.PHA(2)
	paid, _ := price.Add(change)
	const gas = 100_000_000

	// step sends a command, waits for both workers' results and its
	// receipt, and checks who got what between its block and the block
	// its results settled in.
	step := func(name string, key ed25519.PrivateKey, method string, args any, value token.Amount, want contractsapi.Status) client.ReceiptAnswer {
		t.Helper()
		raw, _ := json.Marshal(args)
		sent, err := cl.Command(ctx, key, inst.Contract, method, raw, client.CommandOptions{GasLimit: gas, Value: value})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, at := agreed(t, ctx, cl, sent.Height, len(workers))
		c := r.Commands[len(r.Commands)-1]
		if c.Seq != sent.Seq || c.Status != want {
			t.Fatalf("%s: results %+v, want %s", name, c, want)
		}
		a, err := cl.WaitReceipt(ctx, sent.Seq, sent.ReplyKey, client.ReceiptOptions{Workers: workers, Cluster: client.DefaultCluster, Poll: 10 * time.Millisecond})
		if err != nil || a.Status != want || a.GasUsed != c.GasUsed || !bytes.Equal(codec.MustMarshal(a.Payouts), codec.MustMarshal(c.Payouts)) {
			t.Fatalf("%s: receipt %+v (%v), results %+v", name, a, err, c)
		}
		t.Logf("%s: %s, gas %d, block %d settled at %d", name, c.Status, c.GasUsed, sent.Height, at)
		gasBack, err := p.GasPrice.MulUint64(gas - c.GasUsed)
		if err != nil {
			t.Fatal(err)
		}
		sender := addrOf(key)
		for _, w := range expected[name](gasBack) {
			a := w.addr
			if a == (address.Address{}) {
				a = sender
			}
			got := signedDiff(t, balanceAt(t, ctx, cl, a, at), balanceAt(t, ctx, cl, a, sent.Height))
			if got != w.diff {
				t.Errorf("%s: %s moved %s, want %s", name, w.who, got, w.diff)
			}
		}
		return a
	}
	expected = map[string]func(gasBack token.Amount) []move{
		"put":   func(g token.Amount) []move { return []move{{"the owner", address.Address{}, plus(g)}} },
		"price": func(g token.Amount) []move { return []move{{"the owner", address.Address{}, plus(g)}} },
		"too little": func(g token.Amount) []move {
			back, _ := g.Add(token.PHA(3))
			return []move{{"the buyer (gas and value back)", address.Address{}, plus(back)}, {"the contract", account, minus(token.PHA(3))}}
		},
		"buy": func(g token.Amount) []move {
			back, _ := g.Add(change)
			return []move{{"the buyer (gas and change)", address.Address{}, plus(back)}, {"the contract", account, minus(change)}}
		},
		"withdraw": func(g token.Amount) []move {
			got, _ := g.Add(price)
			return []move{{"the owner (gas and proceeds)", address.Address{}, plus(got)}, {"the contract", account, minus(price)}}
		},
	}
	ownerHex, secret := hex.EncodeToString(ownerAddr[:]), "passport-4711"
	buy := map[string]any{"owner": ownerHex, "name": "passport"}
	step("put", owner, "put", map[string]any{"name": "passport", "secret": secret}, token.Amount{}, contractsapi.StatusOK)
	step("price", owner, "set_price", map[string]any{"name": "passport", "price": price.String()}, token.Amount{}, contractsapi.StatusOK)
	a := step("too little", buyer, "grant", buy, token.PHA(3), contractsapi.StatusReverted)
	if a.Err() == nil || !strings.Contains(a.Err().Error(), "below the price") {
		t.Fatalf("too little: %v", a.Err())
	}
	a = step("buy", buyer, "grant", buy, paid, contractsapi.StatusOK)
	if len(a.Payouts) != 1 || a.Payouts[0] != (contractsapi.Payout{Contract: inst.Contract, To: buyerAddr, Amount: change}) {
		t.Fatalf("buy: payouts %+v", a.Payouts)
	}
	if got := contractBalance(t, ctx, cl, account); got != price {
		t.Fatalf("the contract holds %s after the sale, want %s", got.PHAString(), price.PHAString())
	}
	q, err := cl.ContractQuery(ctx, inst.Contract, "get", []byte(`{"owner":"`+ownerHex+`","name":"passport"}`), client.QueryOptions{Workers: workers, Key: buyer})
	if err != nil || q.Err() != nil || string(q.Output) != `"`+secret+`"` {
		t.Fatalf("the buyer reads: %+v %v", q, err)
	}
	a = step("withdraw", owner, "withdraw", nil, token.Amount{}, contractsapi.StatusOK)
	if string(a.Output) != `"`+price.String()+`"` || len(a.Payouts) != 1 || a.Payouts[0].To != ownerAddr || a.Payouts[0].Amount != price {
		t.Fatalf("withdraw: %s %+v", a.Output, a.Payouts)
	}
	if got := contractBalance(t, ctx, cl, account); !got.IsZero() {
		t.Fatalf("the contract holds %s after the withdrawal", got.PHAString())
	}
}

// move is how an account's balance should change: addr zero means the
// command's sender.
type move struct {
	who  string
	addr address.Address
	diff string
}

var expected map[string]func(gasBack token.Amount) []move

func plus(a token.Amount) string  { return "+" + a.String() }
func minus(a token.Amount) string { return "-" + a.String() }

// signedDiff is after − before as "+n" or "-n" base units.
func signedDiff(t *testing.T, after, before token.Amount) string {
	t.Helper()
	if d, err := after.Sub(before); err == nil {
		return plus(d)
	}
	d, _ := before.Sub(after)
	return minus(d)
}

func devKey(name string) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(keyring.DevSeed(name)) }

func addrOf(k ed25519.PrivateKey) address.Address {
	return address.FromPublicKey(k.Public().(ed25519.PublicKey))
}

func contractBalance(t *testing.T, ctx context.Context, cl *client.Client, a address.Address) token.Amount {
	t.Helper()
	acc, err := cl.Account(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return acc.Balance
}

func waitKey(t *testing.T, ctx context.Context, cl *client.Client, id contractsapi.Hash) {
	t.Helper()
	for {
		if pubs, err := cl.ContractKeys(ctx, client.DefaultCluster, id[:]); err == nil && len(pubs) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the gatekeeper did not publish the contract's key")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// agreed waits until n workers' results for the block at height are on
// chain, all accepted and byte-identical, and the chain's settlement
// records the later ones as agreeing and none as differing. It returns the
// results and the height the last of them landed at.
func agreed(t *testing.T, ctx context.Context, cl *client.Client, height int64, n int) (contractsapi.Results, int64) {
	t.Helper()
	var payloads [][]byte
	senders := map[string]bool{}
	h := height + 1
	for len(payloads) < n {
		latest, err := cl.LatestHeight(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for ; h <= latest && len(payloads) < n; h++ {
			var b mq.Block
			if err := cl.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(h), &b); err != nil {
				break // still being committed: ask again
			}
			for _, m := range b.Messages {
				rp, err := mq.DecodeRepublished(m.Payload)
				if m.Topic != mq.TopicEgress || err != nil || rp.Egress.Egress.Topic != contractsapi.TopicResults {
					continue
				}
				r, err := contractsapi.DecodeResults(rp.Egress.Egress.Payload)
				if err != nil || r.Height != height || senders[string(rp.Egress.Egress.Sender)] {
					continue
				}
				if rp.Outcome != mq.OutcomeAccepted {
					t.Fatalf("results for height %d not accepted: %v", height, rp.Outcome)
				}
				senders[string(rp.Egress.Egress.Sender)] = true
				payloads = append(payloads, rp.Egress.Egress.Payload)
			}
		}
		if len(payloads) < n {
			select {
			case <-ctx.Done():
				t.Fatalf("%d of %d results for height %d by height %d", len(payloads), n, height, h-1)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	for _, p := range payloads[1:] {
		if !bytes.Equal(p, payloads[0]) {
			t.Fatalf("the workers' results for height %d differ", height)
		}
	}
	landed := h - 1
	ans, err := cl.StateAt(ctx, contractsapi.SettlementKeyOf(height, client.DefaultCluster), landed, false)
	var set contractsapi.Settlement
	if err != nil || !ans.Found || codec.Unmarshal(ans.Value, &set) != nil || len(set.Agreed) != n-1 || len(set.Differed) != 0 {
		t.Fatalf("settlement of height %d: %+v (%v)", height, set, err)
	}
	r, _ := contractsapi.DecodeResults(payloads[0])
	return r, landed
}
