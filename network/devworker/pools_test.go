package devworker_test

import (
	"context"
	"testing"
	"time"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/network/devworker"

	"crypto/ed25519"
)

// TestSetUpPools: on a devnet with its two workers, each lands in a pool
// its operator owns, alice delegates to both, and a second run (a resumed
// devnet) changes nothing.
func TestSetUpPools(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	d := teedevnet.Start(t, ctx, devworker.WorkerRoles...)
	var ws []devworker.PoolWorker
	for i, w := range d.Workers {
		ws = append(ws, devworker.PoolWorker{Operator: devworker.WorkerRoles[i].Operator, Key: w.Runtime.Status().IdentityKey})
	}
	pools, err := devworker.SetUpPools(ctx, d.Client, ws...)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 2 || pools[0].Pool == pools[1].Pool {
		t.Fatalf("pools %+v", pools)
	}
	alice := dev(devworker.Delegator)
	for i, p := range pools {
		info, err := d.Client.Pool(ctx, p.Pool)
		if err != nil {
			t.Fatal(err)
		}
		if info.Pool.Owner != dev(ws[i].Operator) || len(info.Workers) != 1 || string(info.Workers[0]) != string(ws[i].Key) || info.Pool.Commission != devworker.PoolCommission {
			t.Fatalf("pool %s: %+v", p.Pool, info)
		}
		pos, err := d.Client.Position(ctx, p.Pool, alice)
		if err != nil || pos.Value != devworker.Delegation {
			t.Fatalf("alice in pool %s: %+v %v", p.Pool, pos, err)
		}
	}
	height := func() int64 {
		st, err := d.Client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.SyncInfo.LatestBlockHeight
	}
	nonce := func() uint64 {
		acc, err := d.Client.Account(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		return acc.Nonce
	}
	before, h := nonce(), height()
	again, err := devworker.SetUpPools(ctx, d.Client, ws...)
	if err != nil || len(again) != 2 || again[0].Pool != pools[0].Pool || again[1].Pool != pools[1].Pool {
		t.Fatalf("again: %+v %v", again, err)
	}
	if nonce() != before {
		t.Fatalf("a second set-up sent alice's transactions again (checked from height %d)", h)
	}
	all, err := d.Client.Pools(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("pools after a second set-up: %d %v", len(all), err)
	}
}

func dev(name string) address.Address {
	return address.FromPublicKey(ed25519.NewKeyFromSeed(keyring.DevSeed(name)).Public().(ed25519.PublicKey))
}
