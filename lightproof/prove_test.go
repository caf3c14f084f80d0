package lightproof_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/proof"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/internal/devnettest"
	"github.com/phala-go/phala/internal/rpctest"
	"github.com/phala-go/phala/lightproof"
	"github.com/phala-go/phala/token"
)

func addr(name string) address.Address {
	return address.FromPublicKey(devnettest.DevKey(name).Public().(ed25519.PublicKey))
}

// commitAt rewrites the commit answer for the header at height+1 of the
// state asked about last.
func forgedHeader(t *testing.T, target *int64) rpctest.Rewrite {
	return func(call rpctest.Call, result json.RawMessage) json.RawMessage {
		var p struct {
			Height string `json:"height"`
		}
		if call.Method != "commit" || json.Unmarshal(call.Params, &p) != nil || p.Height != strconv.FormatInt(*target, 10) {
			return nil
		}
		c, err := cometrpc.DecodeCommit(result)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return nil
		}
		c.SignedHeader.Header.AppHash[0] ^= 1
		out, _ := json.Marshal(c)
		return out
	}
}

func TestProvenReadsThroughALyingProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	v, cl := devnettest.Start(t, ctx)
	inc, err := cl.Transfer(ctx, devnettest.DevKey("alice"), addr("bob"), token.PHA(3), client.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Node.WaitHeight(ctx, inc.Height+2); err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	b1, err := cl.Block(ctx, &one)
	if err != nil {
		t.Fatal(err)
	}
	root := lightproof.TrustRoot{Height: 1, Hash: b1.BlockID.Hash}
	node, err := cometrpc.New(v.Node.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	px, url := rpctest.StartProxy(t, v.Node.RPCURL())
	aliceKey := bankapi.AccountKeyOf(addr("alice"))
	// honest asks the node itself for key's answer at height.
	honest := func(key []byte, height int64) *cometrpc.QueryResponse {
		q, err := node.ABCIQueryAt(ctx, chainapi.QueryState, key, height, true)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	var headerTarget int64

	wpx, wurl := rpctest.StartProxy(t, v.Node.RPCURL())
	tests := []struct {
		name    string
		fn      rpctest.Rewrite
		witness rpctest.Rewrite // with a witness (wurl) that rewrites so, if not nil
		trust   *lightproof.TrustRoot
		key     []byte
		wantErr error  // nil: accepted
		wantMsg string // in the refusal
	}{
		{name: "honest", key: aliceKey},
		{name: "honest absent", key: bankapi.AccountKeyOf(address.Address{0xee})},
		{name: "forged value", key: aliceKey, fn: rpctest.StateAnswers(t, func(_ int64, q *cometrpc.QueryResponse) {
			var acc bankapi.Account
			var e chainapi.StateEntry
			must(t, codec.Unmarshal(q.Value, &e))
			must(t, codec.Unmarshal(e.Value, &acc))
			acc.Balance = token.PHA(1_000_000)
			e.Value = codec.MustMarshal(acc)
			q.Value = codec.MustMarshal(e)
		}), wantErr: proof.ErrMismatch, wantMsg: "does not give key"},
		{name: "forged absence", key: aliceKey, fn: rpctest.StateAnswers(t, func(_ int64, q *cometrpc.QueryResponse) {
			q.Value = codec.MustMarshal(chainapi.StateEntry{})
		}), wantErr: proof.ErrMismatch, wantMsg: "says it is present"},
		{name: "proof for another key", key: aliceKey, fn: rpctest.StateAnswers(t, func(h int64, q *cometrpc.QueryResponse) {
			q.ProofOps = honest(bankapi.AccountKeyOf(addr("bob")), h).ProofOps
		}), wantErr: proof.ErrMismatch, wantMsg: "the proof is for key"},
		{name: "answer for another key", key: aliceKey, fn: rpctest.StateAnswers(t, func(h int64, q *cometrpc.QueryResponse) {
			*q = *honest(bankapi.AccountKeyOf(addr("bob")), h)
		}), wantErr: lightproof.ErrAnswer, wantMsg: "answered for key"},
		{name: "proof against another height", key: aliceKey, fn: rpctest.StateAnswers(t, func(h int64, q *cometrpc.QueryResponse) {
			q.ProofOps = honest(aliceKey, h-1).ProofOps
		}), wantErr: proof.ErrMismatch, wantMsg: "the proof is for height"},
		{name: "proof against another height, relabelled", key: aliceKey, fn: rpctest.StateAnswers(t, func(h int64, q *cometrpc.QueryResponse) {
			old := honest(aliceKey, h-1).ProofOps
			var step proof.AppHashStep
			must(t, codec.Unmarshal(old.Ops[1].Data, &step))
			step.Height = h
			old.Ops[1].Data = codec.MustMarshal(step)
			q.ProofOps = old
		}), wantErr: proof.ErrAppHash, wantMsg: "the verified header carries"},
		{name: "answer for another height", key: aliceKey, fn: rpctest.StateAnswers(t, func(h int64, q *cometrpc.QueryResponse) {
			*q = *honest(aliceKey, h-1)
		}), wantErr: lightproof.ErrAnswer, wantMsg: "answered for height"},
		{name: "truncated proof: one operation", key: aliceKey, fn: rpctest.StateAnswers(t, func(_ int64, q *cometrpc.QueryResponse) {
			q.ProofOps.Ops = q.ProofOps.Ops[:1]
		}), wantErr: proof.ErrMalformed, wantMsg: "want the operations"},
		{name: "truncated proof: cut data", key: aliceKey, fn: rpctest.StateAnswers(t, func(_ int64, q *cometrpc.QueryResponse) {
			op := &q.ProofOps.Ops[0]
			op.Data = op.Data[:len(op.Data)/2]
		}), wantErr: proof.ErrMalformed, wantMsg: "state proof"},
		{name: "no proof", key: aliceKey, fn: rpctest.StateAnswers(t, func(_ int64, q *cometrpc.QueryResponse) {
			q.ProofOps = nil
		}), wantErr: lightproof.ErrAnswer, wantMsg: "no proof"},
		{name: "forged header app hash", key: aliceKey, fn: forgedHeader(t, &headerTarget), wantErr: lightproof.ErrHeader},
		{name: "honest witness", key: aliceKey, witness: func(rpctest.Call, json.RawMessage) json.RawMessage { return nil }},
		{name: "witness with another header", key: aliceKey, witness: forgedHeader(t, &headerTarget), wantErr: lightproof.ErrHeader, wantMsg: "served an invalid or conflicting header"},
		{name: "wrong trust root", key: aliceKey, trust: &lightproof.TrustRoot{Height: 1, Hash: make([]byte, 32)},
			wantErr: lightproof.ErrTrustRoot, wantMsg: "expected header's hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			px.Set(nil)
			wpx.Set(nil)
			trust := root
			if tc.trust != nil {
				trust = *tc.trust
			}
			o := lightproof.Options{Primary: url, Trust: trust}
			if tc.witness != nil {
				o.Witnesses = []string{wurl}
			}
			ver, err := lightproof.New(ctx, o)
			if err == nil {
				// The header the read will verify: the newest but one's next.
				latest, lerr := cl.LatestHeight(ctx)
				must(t, lerr)
				headerTarget = latest
				px.Set(tc.fn)
				wpx.Set(tc.witness)
				var p lightproof.Proven
				p, err = ver.StateAt(ctx, tc.key, latest-1)
				if err == nil {
					checkProven(t, tc.name, p, tc.witness == nil)
				}
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("refused an honest answer: %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			case tc.wantErr != nil && !strings.Contains(err.Error(), tc.wantMsg):
				t.Fatalf("refusal %q does not say %q", err, tc.wantMsg)
			case err != nil:
				t.Logf("refused: %v", err)
			}
		})
	}
}

func checkProven(t *testing.T, name string, p lightproof.Proven, selfWitness bool) {
	t.Helper()
	if p.HeaderHeight != p.Height+1 || len(p.AppHash) != 32 || len(p.HeaderHash) != 32 || p.SelfWitness != selfWitness {
		t.Fatalf("proven %+v", p)
	}
	if name == "honest absent" && p.Found || name != "honest absent" && !p.Found {
		t.Fatalf("%s: found %v", name, p.Found)
	}
	t.Logf("proven at %d (header %X): trust root %v, query %v, header %v, proof %v", p.Height, p.HeaderHash, p.Timing.TrustRoot, p.Timing.Query, p.Timing.Header, p.Timing.Proof)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The typed reads decode what they prove, and prove absence as zero.
func TestTypedProvenReads(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	v, cl := devnettest.Start(t, ctx)
	node := devnettest.RegisterSimNode(t, ctx, cl, devnettest.DevKey("alice"), registryapi.RoleWorker)
	if err := v.Node.WaitHeight(ctx, node.Included.Height+2); err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	b1, err := cl.Block(ctx, &one)
	must(t, err)
	ver, err := lightproof.New(ctx, lightproof.Options{Primary: v.Node.RPCURL(), Trust: lightproof.TrustRoot{Height: 1, Hash: b1.BlockID.Hash}})
	must(t, err)
	acc, p, err := ver.Account(ctx, addr("alice"))
	must(t, err)
	want, err := cl.Account(ctx, addr("alice"))
	must(t, err)
	if !p.Found || acc.Balance.IsZero() || acc.Nonce != want.Nonce {
		t.Fatalf("alice: %+v found %v, unproven %+v", acc, p.Found, want)
	}
	none, p, err := ver.Account(ctx, address.Address{0x42})
	must(t, err)
	if p.Found || !none.Balance.IsZero() {
		t.Fatalf("absent account: %+v found %v", none, p.Found)
	}
	pub := node.Identity.Public().(ed25519.PublicKey)
	n, p, err := ver.Node(ctx, pub)
	must(t, err)
	if !p.Found || string(n.IdentityKey) != string(pub) {
		t.Fatalf("node: %+v found %v", n, p.Found)
	}
	if _, p, err = ver.Policy(ctx); err != nil || !p.Found {
		t.Fatalf("policy: found %v, %v", p.Found, err)
	}
	sup, p, err := ver.Supply(ctx)
	must(t, err)
	unproven, err := cl.Supply(ctx)
	must(t, err)
	if !p.Found || sup.Total != bankapi.TotalSupply || sup.Total != unproven.Total || sup.RewardPool.IsZero() {
		t.Fatalf("supply: %+v found %v, unproven %+v", sup, p.Found, unproven)
	}
}
