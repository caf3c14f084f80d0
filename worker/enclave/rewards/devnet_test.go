package rewards_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/token"
)

// The economy on a development network, as `phala devnet` sets it up:
// three sim workers in two stake pools (erin's two, frank's one) that
// alice delegates to, and two gatekeepers. One of erin's workers loses its
// relay: it stops answering its challenges, becomes unresponsive, its V
// decays and it earns nothing; with its relay back it answers again and
// earns again. Both gatekeepers post the same settlements byte for byte
// (the chain takes the first copy of each, the second is a duplicate);
// each pool, its owner and alice get exactly what the settlements work
// out to by hand; the reward pool pays no more than it paid out and the
// supply never changes.
func TestEconomyOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a devnet for minutes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	begin := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(begin).Seconds(), what) }
	worker3 := devworker.Role{Name: "worker3", Operator: "erin"}
	d := teedevnet.Start(t, ctx, devworker.WorkerRole, devworker.Worker2Role, worker3)
	step("devnet up")
	cl := d.Client
	supply0, err := cl.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A second gatekeeper, run by bob, whom the admin allows.
	alice := ed25519.NewKeyFromSeed(keyring.DevSeed("alice"))
	bob := address.FromPublicKey(ed25519.NewKeyFromSeed(keyring.DevSeed("bob")).Public().(ed25519.PublicKey))
	if _, err := cl.Send(ctx, alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob}, Allowed: true}); err != nil {
		t.Fatal(err)
	}
	gk2 := d.StartTEE(t, ctx, devworker.Role{Name: "gatekeeper2", Gatekeeper: true, Operator: "bob"})
	gatekeepers := [][]byte{d.Gatekeeper.Runtime.Status().IdentityKey, gk2.Runtime.Status().IdentityKey}

	step("second gatekeeper registered")
	setups := d.SetUpEconomy(t, ctx)
	step("economy set up")
	if len(setups) != 3 || setups[0].Pool != setups[2].Pool || setups[0].Pool == setups[1].Pool {
		t.Fatalf("pools %+v: want erin's two workers in one pool, frank's in another", setups)
	}
	for _, s := range setups {
		if s.Session == 0 {
			t.Fatalf("worker %x is not computing: %+v", s.Worker[:4], s)
		}
	}
	quiet := setups[2] // worker3

	// Rewards flow to both pools, settled by both gatekeepers.
	waitFor(t, ctx, "rewards in both pools", func() bool {
		for _, s := range setups[:2] {
			p, err := cl.Pool(ctx, s.Pool)
			if err != nil || p.Pool.TotalRewards.IsZero() {
				return false
			}
		}
		return len(settlementsBy(t, ctx, cl, gatekeepers[1])) > 0
	})

	step("rewards flow")
	// worker3 loses its relay: unresponsive once a challenge it owes
	// goes unanswered past the window and a period settles.
	if err := d.Workers[2].PauseRelay(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "worker3 unresponsive", func() bool { return state(t, ctx, cl, quiet.Worker) == computeapi.StateUnresponsive })
	step("worker3 unresponsive")
	// Two more periods without it.
	waitPeriods(t, ctx, cl, 2)
	if err := d.Workers[2].ResumeRelay(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "worker3 computing again", func() bool { return state(t, ctx, cl, quiet.Worker) == computeapi.StateComputing })
	step("worker3 recovered")
	waitPeriods(t, ctx, cl, 2)

	// No more settlements: the gatekeepers' relays stop, and what they
	// sent lands.
	for _, gk := range []*devworker.Worker{d.Gatekeeper, gk2} {
		if err := gk.PauseRelay(); err != nil {
			t.Fatal(err)
		}
	}
	waitBlocks(t, ctx, cl, 3)

	// Both gatekeepers sent the same bytes for every period both settled;
	// the chain applied the first copy of each part.
	by := [2][]sent{settlementsBy(t, ctx, cl, gatekeepers[0]), settlementsBy(t, ctx, cl, gatekeepers[1])}
	accepted := acceptedSettlements(t, by)
	if len(accepted) < 6 {
		t.Fatalf("only %d settlements accepted", len(accepted))
	}

	// worker3's record: computing, then unresponsive with nothing earned
	// and V falling, then computing and earning again.
	checkUnresponsiveSpell(t, accepted, quiet.Session)

	// By hand: each part pays each pool the sum of its sessions' rewards
	// less the treasury's part of each; the owner takes the commission of
	// that; alice, the only delegator, the rest.
	var params computeapi.Params
	if err := cl.Query(ctx, computeapi.QueryParams, nil, &params); err != nil {
		t.Fatal(err)
	}
	poolOf := map[uint64]poolsapi.ID{}
	for _, s := range setups {
		poolOf[s.Session] = s.Pool
	}
	type expect struct{ net, owner, delegators token.Amount }
	want := map[poolsapi.ID]*expect{}
	var paidAll token.Amount
	for _, s := range accepted {
		nets := map[poolsapi.ID]token.Amount{}
		for _, w := range s.Workers {
			pool, ok := poolOf[w.Session]
			if !ok {
				t.Fatalf("settlement of unknown session %d", w.Session)
			}
			net, _ := params.Economy.Split(w.Reward)
			nets[pool] = add(t, nets[pool], net)
			paidAll = add(t, paidAll, w.Reward)
		}
		for pool, net := range nets {
			owner := devworker.DevCommission.Of(net)
			e := want[pool]
			if e == nil {
				e = &expect{}
				want[pool] = e
			}
			e.net, e.owner, e.delegators = add(t, e.net, net), add(t, e.owner, owner), add(t, e.delegators, sub(t, net, owner))
		}
	}
	aliceAddr := address.FromPublicKey(alice.Public().(ed25519.PublicKey))
	for pool, e := range want {
		p, err := cl.Pool(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		pos, err := cl.Position(ctx, pool, aliceAddr)
		if err != nil {
			t.Fatal(err)
		}
		if p.Pool.TotalRewards != e.net || p.Pool.OwnerRewards != e.owner || pos.Rewards != e.delegators {
			t.Fatalf("pool %s: rewards %s, owner %s, alice %s; by hand %s, %s, %s",
				pool, p.Pool.TotalRewards, p.Pool.OwnerRewards, pos.Rewards, e.net, e.owner, e.delegators)
		}
		t.Logf("pool %s: %s in rewards, %s to its owner, %s to alice", pool, e.net.PHAString(), e.owner.PHAString(), e.delegators.PHAString())
	}

	// The reward pool paid exactly what was settled (pools' and treasury's
	// parts), from its own balance; the supply is what it was.
	var rp computeapi.RewardPoolInfo
	if err := cl.Query(ctx, computeapi.QueryRewardPool, nil, &rp); err != nil {
		t.Fatal(err)
	}
	if out := add(t, rp.Paid, rp.ToTreasury); out != paidAll {
		t.Fatalf("the reward pool paid %s, the settlements %s", out, paidAll)
	}
	if total := add(t, rp.Balance, paidAll); total != supply0.RewardPool {
		t.Fatalf("reward pool %s + paid %s = %s, want the %s it held before", rp.Balance, paidAll, total, supply0.RewardPool)
	}
	supply, err := cl.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if supply.Total != supply0.Total {
		t.Fatalf("supply %s, was %s", supply.Total, supply0.Total)
	}
}

// sent is one settlement a gatekeeper sent and what the chain made of it.
type sent struct {
	payload []byte
	outcome mq.Outcome
}

// settlementsBy are the settlements gatekeeper gk sent, in order, from
// the chain's republications.
func settlementsBy(t *testing.T, ctx context.Context, cl *client.Client, gk []byte) []sent {
	t.Helper()
	latest, err := cl.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []sent
	for h := int64(1); h < latest; h++ {
		var b mq.Block
		if err := cl.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(h), &b); err != nil {
			t.Fatal(err)
		}
		for _, m := range b.Messages {
			if m.Topic != mq.TopicEgress {
				continue
			}
			rp, err := mq.DecodeRepublished(m.Payload)
			if err != nil {
				t.Fatal(err)
			}
			e := rp.Egress.Egress
			if e.Topic == computeapi.TopicSettlement && bytes.Equal(e.Sender, gk) {
				out = append(out, sent{payload: e.Payload, outcome: rp.Outcome})
			}
		}
	}
	return out
}

// acceptedSettlements checks that the two gatekeepers sent the same bytes
// for every part both sent, that each part was accepted once and its other
// copy counted as a duplicate, and returns the accepted parts in order.
func acceptedSettlements(t *testing.T, by [2][]sent) []computeapi.Settlement {
	t.Helper()
	copies := map[string][]mq.Outcome{}
	var order []string
	for _, list := range by {
		for _, s := range list {
			k := string(s.payload)
			if copies[k] == nil {
				order = append(order, k)
			}
			copies[k] = append(copies[k], s.outcome)
		}
	}
	// The second gatekeeper registered later, and either one's relay may
	// have stopped a period before the other's: every part both sent is
	// the same bytes.
	parts := [2]map[[2]uint64][]byte{}
	for i, list := range by {
		parts[i] = map[[2]uint64][]byte{}
		for _, s := range list {
			d, err := computeapi.DecodeSettlement(s.payload)
			if err != nil {
				t.Fatal(err)
			}
			parts[i][[2]uint64{d.Period, uint64(d.Part)}] = s.payload
		}
	}
	both := 0
	for k, p := range parts[1] {
		if q, ok := parts[0][k]; ok {
			both++
			if !bytes.Equal(p, q) {
				t.Fatalf("period %d part %d differs between the gatekeepers", k[0], k[1])
			}
		}
	}
	if both < 4 {
		t.Fatalf("gatekeepers sent %d and %d settlements, %d parts both", len(by[0]), len(by[1]), both)
	}
	var out []computeapi.Settlement
	for _, k := range order {
		outcomes := copies[k]
		var accepted int
		for _, o := range outcomes {
			switch o {
			case mq.OutcomeAccepted:
				accepted++
			case mq.OutcomeDuplicate:
			default:
				t.Fatalf("a settlement was refused (outcome %v)", o)
			}
		}
		if accepted != 1 {
			t.Fatalf("a settlement was applied %d times", accepted)
		}
		s, err := computeapi.DecodeSettlement([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// checkUnresponsiveSpell: the session earned, then was unresponsive for
// some periods with nothing earned and V falling each period, then earned
// again.
func checkUnresponsiveSpell(t *testing.T, settled []computeapi.Settlement, session uint64) {
	t.Helper()
	var states []computeapi.WorkerSettlement
	for _, s := range settled {
		for _, w := range s.Workers {
			if w.Session == session {
				states = append(states, w)
			}
		}
	}
	phase := 0 // 0 earning, 1 unresponsive, 2 earning again
	var spell int
	for i, w := range states {
		switch {
		case phase == 0 && w.State == computeapi.StateUnresponsive, phase == 1 && w.State == computeapi.StateUnresponsive:
			phase = 1
			spell++
			if !w.Reward.IsZero() || (i > 0 && states[i-1].State == computeapi.StateUnresponsive && w.V.Cmp(states[i-1].V) >= 0) {
				t.Fatalf("unresponsive period %d: reward %s, V %s after %s", i, w.Reward, w.V, states[i-1].V)
			}
		case phase == 1 && w.State == computeapi.StateComputing:
			phase = 2
		case phase == 2 && w.State == computeapi.StateUnresponsive:
			t.Fatalf("unresponsive again at period %d", i)
		}
	}
	if phase != 2 || spell < 2 {
		t.Fatalf("session %d: phase %d after %d unresponsive periods: %+v", session, phase, spell, states)
	}
	last := states[len(states)-1]
	if last.Reward.IsZero() {
		t.Fatalf("session %d earns nothing after recovering", session)
	}
}

func state(t *testing.T, ctx context.Context, cl *client.Client, worker ed25519.PublicKey) computeapi.State {
	t.Helper()
	var w computeapi.WorkerInfo
	if err := cl.Query(ctx, computeapi.QueryWorker, worker, &w); err != nil {
		t.Fatal(err)
	}
	return w.State
}

// waitPeriods waits until n more periods have been settled on chain.
func waitPeriods(t *testing.T, ctx context.Context, cl *client.Client, n uint64) {
	t.Helper()
	var rp computeapi.RewardPoolInfo
	if err := cl.Query(ctx, computeapi.QueryRewardPool, nil, &rp); err != nil {
		t.Fatal(err)
	}
	target := rp.Period + n
	waitFor(t, ctx, "more settled periods", func() bool {
		return cl.Query(ctx, computeapi.QueryRewardPool, nil, &rp) == nil && rp.Period >= target
	})
}

func waitBlocks(t *testing.T, ctx context.Context, cl *client.Client, n int64) {
	t.Helper()
	h, err := cl.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "blocks", func() bool {
		now, err := cl.LatestHeight(ctx)
		return err == nil && now >= h+n
	})
}

func waitFor(t *testing.T, ctx context.Context, what string, done func() bool) {
	t.Helper()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func add(t *testing.T, a, b token.Amount) token.Amount {
	t.Helper()
	s, err := a.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sub(t *testing.T, a, b token.Amount) token.Amount {
	t.Helper()
	s, err := a.Sub(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
