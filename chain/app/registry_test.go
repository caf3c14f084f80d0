package app

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/attest/attestfs"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/token"
)

// teeNode is a node's keys as its enclave would hold them.
type teeNode struct {
	identity   ed25519.PrivateKey
	encryption []byte
}

func newTEENode(t testing.TB) teeNode {
	_, id, _ := ed25519.GenerateKey(nil)
	k, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return teeNode{identity: id, encryption: k.PublicKey().Bytes()}
}

func (n teeNode) pub() []byte { return n.identity.Public().(ed25519.PublicKey) }

var simMeasurement = [32]byte{7, 7, 7}

// simRegistration builds a register body whose sim quote binds the node's
// keys to operator at the harness's newest block.
func (h *harness) simRegistration(n teeNode, operator account, role registryapi.Role) registryapi.Register {
	anchor, ok, err := h.app.Store().BlockHash(h.height)
	if err != nil || !ok {
		h.t.Fatalf("no anchor at %d: %v", h.height, err)
	}
	rd := identity.Binding{ChainID: testChain, AnchorHash: anchor, IdentityKey: n.pub(), EncryptionKey: n.encryption, Operator: operator.addr}.ReportData()
	return registryapi.Register{Role: role, IdentityKey: n.pub(), EncryptionKey: n.encryption, AnchorHeight: h.height, Quote: attest.SignSimQuote(simMeasurement, rd)}
}

func signed(t testing.TB, from account, nonce uint64, method string, body any) []byte {
	env, err := tx.New(testChain, from.key.Public().(ed25519.PublicKey), nonce, token.PHA(1), 10_000_000, method, body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Sign(from.key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h *harness) node(n teeNode) registryapi.Node {
	resp, _ := h.app.Query(context.Background(), &abci.QueryRequest{Path: registryapi.QueryNode, Data: n.pub()})
	var out registryapi.Node
	if resp.Code != 0 {
		h.t.Fatalf("node query: %s", resp.Log)
	}
	if err := codec.Unmarshal(resp.Value, &out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) mustSucceed(raw []byte) {
	h.t.Helper()
	if r := h.block(raw).TxResults[0]; r.Code != 0 {
		h.t.Fatalf("transaction failed: %s", r.Log)
	}
}

func TestRegisterSimWorker(t *testing.T) {
	h := newHarness(t)
	h.block()
	alice, n := devAccount("alice"), newTEENode(t)
	reg := h.simRegistration(n, alice, registryapi.RoleWorker)
	raw := signed(t, alice, 0, registryapi.MethodRegister, reg)
	if r := h.check(raw); r.Code != 0 {
		t.Fatalf("CheckTx: %s", r.Log)
	}
	before, _ := h.app.Info(context.Background(), nil)
	h.mustSucceed(raw)
	msgs, err := h.app.Messages(h.height)
	if err != nil || len(msgs) != 1 || msgs[0].Topic != registryapi.TopicNode {
		t.Fatalf("registration published %v for enclaves (%v)", msgs, err)
	}
	got := h.node(n)
	if !got.Active || got.Role != registryapi.RoleWorker || got.Operator != alice.addr || got.Attestation.TEE != "sim" || got.Attestation.MrEnclave != simMeasurement {
		t.Fatalf("registered node: %+v", got)
	}
	after, _ := h.app.Info(context.Background(), nil)
	if string(before.LastBlockAppHash) == string(after.LastBlockAppHash) {
		t.Fatal("registration did not change the app hash")
	}
}

func TestBadRegistrationsAreRefused(t *testing.T) {
	alice, bob := devAccount("alice"), devAccount("bob")
	tests := []struct {
		name string
		make func(h *harness, n teeNode) []byte
		want error
	}{
		{"tampered quote", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			r.Quote[len(r.Quote)-1] ^= 1
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrAttestation},
		{"garbage quote", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			r.Quote = []byte("garbage")
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrAttestation},
		{"truncated quote", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			r.Quote = r.Quote[:len(r.Quote)/2]
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrAttestation},
		{"oversized quote", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			r.Quote = append(r.Quote, make([]byte, 70_000)...)
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, tx.ErrTooLarge},
		{"quote for other keys", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(newTEENode(t), alice, registryapi.RoleWorker)
			r.IdentityKey, r.EncryptionKey = n.pub(), n.encryption
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrReportData},
		{"replayed by another operator", func(h *harness, n teeNode) []byte {
			return signed(t, bob, 0, registryapi.MethodRegister, h.simRegistration(n, alice, registryapi.RoleWorker))
		}, registryapi.ErrReportData},
		{"stale report data", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			for i := 0; i < int(registryapi.DefaultParams().MaxAnchorAge)+1; i++ {
				h.block()
			}
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrStaleAnchor},
		{"anchor in the future", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			r.AnchorHeight = h.height + 5
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrStaleAnchor},
		{"unknown measurement", func(h *harness, n teeNode) []byte {
			h.mustSucceed(signed(t, alice, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}}))
			return signed(t, alice, 1, registryapi.MethodRegister, h.simRegistration(n, alice, registryapi.RoleWorker))
		}, registryapi.ErrAttestation},
		{"sim refused by policy", func(h *harness, n teeNode) []byte {
			h.mustSucceed(signed(t, alice, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{}}))
			return signed(t, alice, 1, registryapi.MethodRegister, h.simRegistration(n, alice, registryapi.RoleWorker))
		}, registryapi.ErrAttestation},
		{"gatekeeper without a grant", func(h *harness, n teeNode) []byte {
			return signed(t, bob, 0, registryapi.MethodRegister, h.simRegistration(n, bob, registryapi.RoleGatekeeper))
		}, registryapi.ErrNotGatekeeper},
		{"bad encryption key", func(h *harness, n teeNode) []byte {
			r := h.simRegistration(n, alice, registryapi.RoleWorker)
			r.EncryptionKey = r.EncryptionKey[:10]
			return signed(t, alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrInvalid},
		{"policy change by non-admin", func(h *harness, n teeNode) []byte {
			return signed(t, bob, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{}})
		}, registryapi.ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.block()
			n := newTEENode(t)
			raw := tc.make(h, n)
			before, _ := h.app.Info(context.Background(), nil)
			_, r := h.refusedTwice(t, raw, tc.want)
			after, _ := h.app.Info(context.Background(), nil)
			if string(before.LastBlockAppHash) != string(after.LastBlockAppHash) {
				t.Fatal("a refused registration changed state")
			}
			t.Logf("refused with: %s", r.Log)
		})
	}
}

func TestGatekeeperGrantAndRevocation(t *testing.T) {
	h := newHarness(t)
	h.block()
	alice, bob := devAccount("alice"), devAccount("bob")
	gk := newTEENode(t)
	h.mustSucceed(signed(t, alice, 0, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob.addr}, Allowed: true}))
	h.mustSucceed(signed(t, bob, 0, registryapi.MethodRegister, h.simRegistration(gk, bob, registryapi.RoleGatekeeper)))
	if !h.node(gk).Active {
		t.Fatal("granted gatekeeper not active")
	}
	h.mustSucceed(signed(t, alice, 1, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob.addr}, Allowed: false}))
	if n := h.node(gk); n.Active || n.Reason == "" {
		t.Fatalf("gatekeeper still active after its grant was withdrawn: %+v", n)
	}
}

func TestPolicyChangeDeactivatesAtNextBlock(t *testing.T) {
	h := newHarness(t)
	h.block()
	alice := devAccount("alice")
	n := newTEENode(t)
	h.mustSucceed(signed(t, alice, 0, registryapi.MethodRegister, h.simRegistration(n, alice, registryapi.RoleWorker)))
	other := attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}
	h.mustSucceed(signed(t, alice, 1, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: other}))
	got := h.node(n)
	if got.Active || got.Reason == "" {
		t.Fatalf("node passing no longer still active: %+v", got)
	}
	t.Logf("deactivated: %s", got.Reason)
	// With the old measurement allowed again, re-registration restores it.
	h.mustSucceed(signed(t, alice, 2, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true}}))
	h.mustSucceed(signed(t, alice, 3, registryapi.MethodRegister, h.simRegistration(n, alice, registryapi.RoleWorker)))
	if !h.node(n).Active {
		t.Fatal("re-registration did not reactivate")
	}
}

func TestAttestationExpires(t *testing.T) {
	h := newHarness(t)
	h.block()
	alice := devAccount("alice")
	n := newTEENode(t)
	h.mustSucceed(signed(t, alice, 0, registryapi.MethodRegister, h.simRegistration(n, alice, registryapi.RoleWorker)))
	quiet := h.block()
	h.now = h.now.Add(time.Duration(registryapi.DefaultParams().ReattestSeconds) * time.Second)
	expired := h.block()
	if string(quiet.AppHash) == string(expired.AppHash) {
		t.Fatal("expiry wrote nothing")
	}
	if got := h.node(n); got.Active {
		t.Fatal("node active after its attestation expired")
	}
	again := h.block()
	if string(again.AppHash) != string(expired.AppHash) {
		t.Fatal("an empty block after the expiry changed the app hash")
	}
}

// The real quote verifies only inside its collateral's window and binds
// "Hello, world!", not a node's keys: on chain it is refused either way,
// with the reason.
func TestRealQuoteOnChain(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "attestation", "sgx-dcap-v3-phala")
	quote, err := os.ReadFile(filepath.Join(dir, "quote.bin"))
	if err != nil {
		t.Skipf("shared attestation testdata absent (%v)", err)
	}
	coll, err := attestfs.LoadCollateralDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lenient := attest.Policy{AcceptedTCBStatuses: []string{attest.StatusUpToDate, attest.StatusSWHardeningNeeded, attest.StatusConfigurationAndSWHardeningNeeded}}
	tests := []struct {
		name string
		at   time.Time
		want error
	}{
		{"inside the window: verifies, but binds other data", time.Unix(1700956800, 0), registryapi.ErrReportData},
		{"years later: collateral expired", time.Unix(1790000000, 0), registryapi.ErrAttestation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			alice := devAccount("alice")
			h.now = tc.at
			h.mustSucceed(signed(t, alice, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: lenient}))
			r := h.simRegistration(newTEENode(t), alice, registryapi.RoleWorker)
			r.Quote, r.Collateral = quote, coll
			res := h.block(signed(t, alice, 1, registryapi.MethodRegister, r)).TxResults[0]
			if !matches(res.Codespace, res.Code, res.Log, tc.want) {
				t.Fatalf("got %s/%d %q, want %v", res.Codespace, res.Code, res.Log, tc.want)
			}
			t.Logf("refused with: %s", res.Log)
		})
	}
}

func TestSimRefusedByProductionGenesis(t *testing.T) {
	alice, bob, carol := devAccount("alice"), devAccount("bob"), devAccount("carol")
	g, _ := DefaultGenesis(bank.DefaultGenesis(alice.addr, bob.addr, carol.addr), registryapi.DefaultGenesis(alice.addr, false))
	raw, _ := json.Marshal(g)
	a, err := New(testChain, t.TempDir(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, AppStateBytes: raw}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, app: a, now: time.Unix(1_700_000_000, 0)}
	h.block()
	res := h.block(signed(t, alice, 0, registryapi.MethodRegister, h.simRegistration(newTEENode(t), alice, registryapi.RoleWorker))).TxResults[0]
	if !matches(res.Codespace, res.Code, res.Log, registryapi.ErrAttestation) {
		t.Fatalf("sim accepted on a production chain: %q", res.Log)
	}
	t.Logf("refused with: %s", res.Log)
}
