package registry_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/attest/attestfs"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
)

// onlyOtherMeasurement is a sim policy that no node here passes: its one
// allowed measurement is not apptest.SimMeasurement.
var onlyOtherMeasurement = attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}

// anchored is a chain one block past genesis, so that a sim registration
// has a block to anchor to.
func anchored(t *testing.T, opts ...apptest.Option) *apptest.Chain {
	t.Helper()
	h := apptest.New(t, opts...)
	h.Block()
	return h
}

func TestRegisterSimWorker(t *testing.T) {
	h := anchored(t)
	alice, n := apptest.Alice, apptest.NewTEENode(t)
	reg := h.SimRegistration(n, alice, registryapi.RoleWorker)
	raw := h.Signed(alice, 0, registryapi.MethodRegister, reg)
	if r := h.Check(raw); r.Code != 0 {
		t.Fatalf("CheckTx: %s", r.Log)
	}
	before := h.AppHash()
	h.MustSucceed(raw)
	msgs, err := h.App.Messages(h.Height)
	if err != nil || len(msgs) != 1 || msgs[0].Topic != registryapi.TopicNode {
		t.Fatalf("registration published %v for enclaves (%v)", msgs, err)
	}
	got := h.Node(n)
	if !got.Active || got.Role != registryapi.RoleWorker || got.Operator != alice.Addr || got.Attestation.TEE != "sim" || got.Attestation.MrEnclave != apptest.SimMeasurement {
		t.Fatalf("registered node: %+v", got)
	}
	if bytes.Equal(before, h.AppHash()) {
		t.Fatal("registration did not change the app hash")
	}
}

func TestBadRegistrationsAreRefused(t *testing.T) {
	alice, bob := apptest.Alice, apptest.Bob
	// worker is alice's registration of n as a worker, changed by edit.
	worker := func(h *apptest.Chain, n apptest.TEENode, edit func(r *registryapi.Register)) []byte {
		r := h.SimRegistration(n, alice, registryapi.RoleWorker)
		edit(&r)
		return h.Signed(alice, 0, registryapi.MethodRegister, r)
	}
	tests := []struct {
		name string
		make func(h *apptest.Chain, n apptest.TEENode) []byte
		want error
	}{
		{"tampered quote", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return worker(h, n, func(r *registryapi.Register) { r.Quote[len(r.Quote)-1] ^= 1 })
		}, registryapi.ErrAttestation},
		{"garbage quote", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return worker(h, n, func(r *registryapi.Register) { r.Quote = []byte("garbage") })
		}, registryapi.ErrAttestation},
		{"truncated quote", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return worker(h, n, func(r *registryapi.Register) { r.Quote = r.Quote[:len(r.Quote)/2] })
		}, registryapi.ErrAttestation},
		{"oversized quote", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return worker(h, n, func(r *registryapi.Register) { r.Quote = append(r.Quote, make([]byte, 70_000)...) })
		}, tx.ErrTooLarge},
		{"quote for other keys", func(h *apptest.Chain, n apptest.TEENode) []byte {
			r := h.SimRegistration(apptest.NewTEENode(t), alice, registryapi.RoleWorker)
			r.IdentityKey, r.EncryptionKey = n.Pub(), n.Encryption
			return h.Signed(alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrReportData},
		{"replayed by another operator", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Signed(bob, 0, registryapi.MethodRegister, h.SimRegistration(n, alice, registryapi.RoleWorker))
		}, registryapi.ErrReportData},
		{"stale report data", func(h *apptest.Chain, n apptest.TEENode) []byte {
			r := h.SimRegistration(n, alice, registryapi.RoleWorker)
			for i := 0; i < int(registryapi.DefaultParams().MaxAnchorAge)+1; i++ {
				h.Block()
			}
			return h.Signed(alice, 0, registryapi.MethodRegister, r)
		}, registryapi.ErrStaleAnchor},
		{"anchor in the future", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return worker(h, n, func(r *registryapi.Register) { r.AnchorHeight = h.Height + 5 })
		}, registryapi.ErrStaleAnchor},
		{"unknown measurement", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.MustSucceed(h.Signed(alice, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: onlyOtherMeasurement}))
			return h.Signed(alice, 1, registryapi.MethodRegister, h.SimRegistration(n, alice, registryapi.RoleWorker))
		}, registryapi.ErrAttestation},
		{"sim refused by policy", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.MustSucceed(h.Signed(alice, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{}}))
			return h.Signed(alice, 1, registryapi.MethodRegister, h.SimRegistration(n, alice, registryapi.RoleWorker))
		}, registryapi.ErrAttestation},
		{"gatekeeper without a grant", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Signed(bob, 0, registryapi.MethodRegister, h.SimRegistration(n, bob, registryapi.RoleGatekeeper))
		}, registryapi.ErrNotGatekeeper},
		{"bad encryption key", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return worker(h, n, func(r *registryapi.Register) { r.EncryptionKey = r.EncryptionKey[:10] })
		}, registryapi.ErrInvalid},
		{"policy change by non-admin", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Signed(bob, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{}})
		}, registryapi.ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := anchored(t)
			raw := tc.make(h, apptest.NewTEENode(t))
			if errors.Is(tc.want, tx.ErrTooLarge) {
				// Refused before the fee is charged: nothing changes.
				nothing := h.NothingWritten()
				h.MustRefuse(raw, tc.want)
				h.MustWrite(nothing)
				return
			}
			// Refused by the method: the fee is paid, nothing else changes.
			_, r := h.MustRefuseCharged(raw, tc.want)
			t.Logf("refused with: %s", r.Log)
		})
	}
}

func TestGatekeeperGrantAndRevocation(t *testing.T) {
	h := anchored(t)
	alice, bob := apptest.Alice, apptest.Bob
	grant := func(nonce uint64, allowed bool) []byte {
		return h.Signed(alice, nonce, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob.Addr}, Allowed: allowed})
	}
	gk := apptest.NewTEENode(t)
	h.MustSucceed(grant(0, true))
	h.MustSucceed(h.Signed(bob, 0, registryapi.MethodRegister, h.SimRegistration(gk, bob, registryapi.RoleGatekeeper)))
	if !h.Node(gk).Active {
		t.Fatal("granted gatekeeper not active")
	}
	h.MustSucceed(grant(1, false))
	if n := h.Node(gk); n.Active || n.Reason == "" {
		t.Fatalf("gatekeeper still active after its grant was withdrawn: %+v", n)
	}
}

func TestPolicyChangeDeactivatesAtNextBlock(t *testing.T) {
	h := anchored(t)
	alice := apptest.Alice
	n := apptest.NewTEENode(t)
	h.MustSucceed(h.Signed(alice, 0, registryapi.MethodRegister, h.SimRegistration(n, alice, registryapi.RoleWorker)))
	h.MustSucceed(h.Signed(alice, 1, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: onlyOtherMeasurement}))
	got := h.Node(n)
	if got.Active || got.Reason == "" {
		t.Fatalf("node passing no longer still active: %+v", got)
	}
	t.Logf("deactivated: %s", got.Reason)
	// With the old measurement allowed again, re-registration restores it.
	h.MustSucceed(h.Signed(alice, 2, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true}}))
	h.MustSucceed(h.Signed(alice, 3, registryapi.MethodRegister, h.SimRegistration(n, alice, registryapi.RoleWorker)))
	if !h.Node(n).Active {
		t.Fatal("re-registration did not reactivate")
	}
}

func TestAttestationExpires(t *testing.T) {
	h := anchored(t)
	alice := apptest.Alice
	n := apptest.NewTEENode(t)
	h.MustSucceed(h.Signed(alice, 0, registryapi.MethodRegister, h.SimRegistration(n, alice, registryapi.RoleWorker)))
	h.Block()
	h.Now = h.Now.Add(time.Duration(registryapi.DefaultParams().ReattestSeconds) * time.Second)
	h.Block()
	if got := h.Node(n); got.Active {
		t.Fatal("node active after its attestation expired")
	}
	nothing := h.NothingWritten()
	h.Block()
	h.MustWrite(nothing) // the expiry is done once
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
			h := apptest.New(t)
			alice := apptest.Alice
			h.Now = tc.at
			h.MustSucceed(h.Signed(alice, 0, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: lenient}))
			r := h.SimRegistration(apptest.NewTEENode(t), alice, registryapi.RoleWorker)
			r.Quote, r.Collateral = quote, coll
			res := h.Block(h.Signed(alice, 1, registryapi.MethodRegister, r)).TxResults[0]
			if !errors.Is(apptest.TxErr(res), tc.want) {
				t.Fatalf("got %s/%d %q, want %v", res.Codespace, res.Code, res.Log, tc.want)
			}
			t.Logf("refused with: %s", res.Log)
		})
	}
}

func TestSimRefusedByProductionGenesis(t *testing.T) {
	h := anchored(t, apptest.WithoutSim())
	alice := apptest.Alice
	res := h.Block(h.Signed(alice, 0, registryapi.MethodRegister, h.SimRegistration(apptest.NewTEENode(t), alice, registryapi.RoleWorker))).TxResults[0]
	if !errors.Is(apptest.TxErr(res), registryapi.ErrAttestation) {
		t.Fatalf("sim accepted on a production chain: %q", res.Log)
	}
	t.Logf("refused with: %s", res.Log)
}
