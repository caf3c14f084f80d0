package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/phala-go/phala/internal/devnettest"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/keyring"
)

// TestKeysOnDevnet drives the keys module's admin transactions and queries
// through a real node: the first generation pends from genesis, a cluster
// gets a worker, and refusals come back as the module's errors. (Contract
// keys are requested by instantiation: see TestContractsOnDevnet.)
func TestKeysOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, cl := devnettest.Start(t, ctx)
	alice, bob := ed25519.NewKeyFromSeed(keyring.DevSeed("alice")), ed25519.NewKeyFromSeed(keyring.DevSeed("bob"))
	worker := devnettest.RegisterSimNode(t, ctx, cl, alice, registryapi.RoleWorker).Identity.Public().(ed25519.PublicKey)

	if m, err := cl.MasterKeys(ctx); err != nil || m.Pending != 1 || len(m.Publics) != 0 {
		t.Fatalf("master keys at genesis: %+v (%v)", m, err)
	}
	if _, err := cl.RotateMasterKey(ctx, alice); !errors.Is(err, keysapi.ErrRotationPending) {
		t.Fatalf("rotation before generation 1: %v", err)
	}
	if _, err := cl.CreateCluster(ctx, bob, "c1"); !errors.Is(err, keysapi.ErrUnauthorized) {
		t.Fatalf("cluster by non-admin: %v", err)
	}
	if _, err := cl.CreateCluster(ctx, alice, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AssignWorker(ctx, alice, "c1", worker); err != nil {
		t.Fatal(err)
	}
	c, err := cl.Cluster(ctx, "c1")
	if err != nil || len(c.Workers) != 1 || !bytes.Equal(c.Workers[0], worker) {
		t.Fatalf("cluster %+v (%v)", c, err)
	}
	if all, err := cl.Clusters(ctx); err != nil || len(all) != 1 {
		t.Fatalf("clusters %+v (%v)", all, err)
	}
	if _, err := cl.ContractKeys(ctx, "c1", []byte{3}); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("contract never requested: %v", err)
	}
	if h, err := cl.KeyHandouts(ctx, worker); err != nil || h.Cluster.Count != 0 {
		t.Fatalf("hand-outs %+v (%v)", h, err)
	}
}
