package gov_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// The dev accounts hold 100M (alice), 60M (bob) and 50M (carol) PHA of
// about 210M that may vote, so with the default quorum (33.4%) alice alone
// reaches it, carol alone does not, and bob's veto against alice's yes is
// 37.5% of the votes: a veto.
var (
	alice, bob, carol = apptest.Alice, apptest.Bob, apptest.Carol
	erin              = apptest.Dev("erin") // proposes; funded with 100 PHA, too little to matter in a tally
	dave              = apptest.Dev("dave") // receives spends; no funds
	fee               = token.PHA(1)        // what apptest's transactions pay
)

const period = 5 * time.Second

// newChain starts a chain whose governance decides in seconds: 10 PHA to
// vote, 1 to propose, five-second periods; erin holds 100 PHA.
// edit changes the rest of the gov genesis.
func newChain(t *testing.T, edit ...func(*govapi.Genesis)) *apptest.Chain {
	t.Helper()
	c := apptest.New(t, apptest.WithGenesis(func(g *app.Genesis) {
		var gen govapi.Genesis
		if err := json.Unmarshal(g.Modules[govapi.Name], &gen); err != nil {
			t.Fatal(err)
		}
		gen.Params.MinDeposit, gen.Params.MinInitialDeposit = token.PHA(10), token.PHA(1)
		gen.Params.DepositPeriod, gen.Params.VotingPeriod = period, period
		for _, e := range edit {
			e(&gen)
		}
		raw, err := json.Marshal(gen)
		if err != nil {
			t.Fatal(err)
		}
		g.Modules[govapi.Name] = raw
	}))
	c.Block()
	c.MustSucceed(c.Tx(alice, bankapi.MethodTransfer, bankapi.Transfer{To: erin.Addr, Amount: token.PHA(100)}))
	return c
}

func setParams(path, value string) govapi.Action {
	return govapi.Action{Method: govapi.MethodSetParams, Body: codec.MustMarshal(module.ParamChange{
		Changes: []module.ParamValue{{Path: path, Value: json.RawMessage(value)}},
	})}
}

func spend(to address.Address, amount token.Amount) govapi.Action {
	return govapi.Action{Method: govapi.MethodSpendTreasury, Body: codec.MustMarshal(govapi.Spend{To: to, Amount: amount})}
}

// propose submits a proposal of erin's with deposit and returns its id.
func propose(t *testing.T, c *apptest.Chain, deposit token.Amount, actions ...govapi.Action) uint64 {
	t.Helper()
	c.MustSucceed(c.Tx(erin, govapi.MethodPropose, govapi.Propose{Title: "test", Description: "a test proposal", Actions: actions, Deposit: deposit}))
	var list govapi.ProposalList
	if err := c.Query(govapi.QueryProposals, codec.MustMarshal(govapi.ListQuery{Limit: 1}), &list); err != nil || len(list.Proposals) != 1 {
		t.Fatalf("newest proposal: %v %+v", err, list)
	}
	return list.Proposals[0].ID
}

func vote(t *testing.T, c *apptest.Chain, who apptest.Account, id uint64, o govapi.Option) {
	t.Helper()
	c.MustSucceed(c.Tx(who, govapi.MethodVote, govapi.Vote{Proposal: id, Option: o}))
}

func proposal(t *testing.T, c *apptest.Chain, id uint64) govapi.ProposalInfo {
	t.Helper()
	var info govapi.ProposalInfo
	if err := c.Query(govapi.QueryProposal, codec.MustMarshal(govapi.ProposalQuery{ID: id}), &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// waitEnd runs empty blocks until proposal id has ended (within a
// deadline of blocks) and returns it, with the events of the block that
// ended it.
func waitEnd(t *testing.T, c *apptest.Chain, id uint64) (govapi.Proposal, []string) {
	t.Helper()
	for range 3 * int(period/time.Second) {
		resp := c.Block()
		p := proposal(t, c, id).Proposal
		if p.Status != govapi.StatusDeposit && p.Status != govapi.StatusVoting {
			var kinds []string
			for _, e := range resp.Events {
				kinds = append(kinds, e.Type)
			}
			return p, kinds
		}
	}
	t.Fatalf("proposal %d did not end", id)
	return govapi.Proposal{}, nil
}

func params(t *testing.T, c *apptest.Chain) govapi.Params {
	t.Helper()
	p, err := gov.GetParams(c.App.Store())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func balance(c *apptest.Chain, a address.Address) token.Amount { return c.Account(a).Balance }

func pha(t *testing.T, base token.Amount, plus int64) token.Amount {
	t.Helper()
	var out token.Amount
	var err error
	if plus >= 0 {
		out, err = base.Add(token.PHA(uint64(plus)))
	} else {
		out, err = base.Sub(token.PHA(uint64(-plus)))
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParamChangePasses: a proposal changing governance's own params
// passes, runs, refunds its deposit, and the new voting period governs the
// next proposal.
func TestParamChangePasses(t *testing.T) {
	c := newChain(t)
	erinBefore := balance(c, erin.Addr)
	id := propose(t, c, token.PHA(10), setParams("voting_period", "7000000000"), setParams("quorum", "400000"))
	if p := proposal(t, c, id).Proposal; p.Status != govapi.StatusVoting || p.VotingEnd-p.VotingStart != int64(period) {
		t.Fatalf("a full deposit opens voting at once: %+v", p)
	}
	vote(t, c, alice, id, govapi.OptionYes)
	p, events := waitEnd(t, c, id)
	if p.Status != govapi.StatusPassed || p.Tally.Voters != 1 || p.EndHeight != c.Height {
		t.Fatalf("proposal %+v", p)
	}
	if n := strings.Count(strings.Join(events, " "), govapi.EventExecuted); n != 2 || !strings.Contains(strings.Join(events, " "), govapi.EventEnded) {
		t.Fatalf("events %v: want two %s and an %s", events, govapi.EventExecuted, govapi.EventEnded)
	}
	if got := params(t, c); got.VotingPeriod != 7*time.Second || got.Quorum != 400_000 {
		t.Fatalf("params %+v", got)
	}
	if got, want := balance(c, erin.Addr), pha(t, erinBefore, -1); got != want {
		t.Fatalf("erin holds %s, want %s: the deposit back, the fee paid", got.PHAString(), want.PHAString())
	}
	if got := balance(c, govapi.Deposits); !got.IsZero() {
		t.Fatalf("deposits account holds %s after the refund", got.PHAString())
	}
	next := propose(t, c, token.PHA(10))
	if p := proposal(t, c, next).Proposal; p.VotingEnd-p.VotingStart != int64(7*time.Second) {
		t.Fatalf("the next proposal votes for %v", time.Duration(p.VotingEnd-p.VotingStart))
	}
}

// TestTreasurySpendPaysOnce: a passed spend pays its recipient exactly
// once, from the treasury.
func TestTreasurySpendPaysOnce(t *testing.T) {
	c := newChain(t)
	c.MustSucceed(c.Tx(bob, bankapi.MethodTransfer, bankapi.Transfer{To: bankapi.Treasury, Amount: token.PHA(10)}))
	id := propose(t, c, token.PHA(10), spend(dave.Addr, token.PHA(3)))
	vote(t, c, alice, id, govapi.OptionYes)
	treasury := balance(c, bankapi.Treasury)
	if p, _ := waitEnd(t, c, id); p.Status != govapi.StatusPassed {
		t.Fatalf("proposal %+v", p)
	}
	for range 2 * int(period/time.Second) {
		c.Block()
	}
	if got := balance(c, dave.Addr); got != token.PHA(3) {
		t.Fatalf("dave holds %s, want 3 PHA", got.PHAString())
	}
	if got, want := balance(c, bankapi.Treasury), pha(t, treasury, -3); got != want {
		t.Fatalf("treasury holds %s, want %s", got.PHAString(), want.PHAString())
	}
}

// TestOutcomes: a rejected proposal changes nothing and refunds; a vetoed
// one and one short of the quorum change nothing and burn the deposit.
func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		votes  map[*apptest.Account]govapi.Option
		want   govapi.Status
		burned bool
	}{
		{"rejected", map[*apptest.Account]govapi.Option{&alice: govapi.OptionNo, &carol: govapi.OptionYes}, govapi.StatusRejected, false},
		{"abstain only", map[*apptest.Account]govapi.Option{&alice: govapi.OptionAbstain}, govapi.StatusRejected, false},
		{"vetoed", map[*apptest.Account]govapi.Option{&alice: govapi.OptionYes, &bob: govapi.OptionVeto}, govapi.StatusVetoed, true},
		{"no quorum", map[*apptest.Account]govapi.Option{&carol: govapi.OptionYes}, govapi.StatusNoQuorum, true},
		{"no votes", nil, govapi.StatusNoQuorum, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			before, erinBefore := params(t, c), balance(c, erin.Addr)
			id := propose(t, c, token.PHA(12), setParams("threshold", "900000"))
			for who, o := range tc.votes {
				vote(t, c, *who, id, o)
			}
			p, _ := waitEnd(t, c, id)
			if p.Status != tc.want || p.Outcome == "" {
				t.Fatalf("status %s (%s), want %s; tally %+v", p.Status, p.Outcome, tc.want, p.Tally)
			}
			if got := params(t, c); got != before {
				t.Fatalf("params changed: %+v", got)
			}
			want, burned := pha(t, erinBefore, -1), token.Amount{}
			if tc.burned {
				want, burned = pha(t, erinBefore, -13), token.PHA(12)
			}
			if got := balance(c, erin.Addr); got != want {
				t.Fatalf("erin holds %s, want %s", got.PHAString(), want.PHAString())
			}
			var supply bankapi.SupplyInfo
			if err := c.Query(bankapi.QuerySupply, nil, &supply); err != nil || supply.Burned != burned {
				t.Fatalf("burned %s, want %s (%v)", supply.Burned.PHAString(), burned.PHAString(), err)
			}
		})
	}
}

// TestFailedAtExecution: a proposal whose last action fails when it runs
// (another proposal lowered min_deposit below the min_initial_deposit it
// sets) keeps none of its actions, not even the spend before it, and is
// refunded.
func TestFailedAtExecution(t *testing.T) {
	c := newChain(t)
	first := propose(t, c, token.PHA(10), setParams("min_deposit", `"5000000000000"`))
	second := propose(t, c, token.PHA(10), spend(dave.Addr, token.PHA(1)), setParams("min_initial_deposit", `"8000000000000"`))
	vote(t, c, alice, first, govapi.OptionYes)
	vote(t, c, alice, second, govapi.OptionYes)
	erinBefore := balance(c, erin.Addr)
	if p, _ := waitEnd(t, c, first); p.Status != govapi.StatusPassed {
		t.Fatalf("first %+v", p)
	}
	p, events := waitEnd(t, c, second)
	if p.Status != govapi.StatusFailed || !strings.Contains(p.Outcome, "min_initial_deposit") || !strings.Contains(p.Outcome, "action 1") {
		t.Fatalf("second: %s %q", p.Status, p.Outcome)
	}
	if strings.Contains(strings.Join(events, " "), govapi.EventExecuted) || strings.Contains(strings.Join(events, " "), govapi.EventTreasurySpent) {
		t.Fatalf("a failed proposal's actions left events: %v", events)
	}
	if got := params(t, c); got.MinDeposit != token.PHA(5) || got.MinInitialDeposit != token.PHA(1) {
		t.Fatalf("params %+v", got)
	}
	if got := c.Account(dave.Addr); !got.Balance.IsZero() {
		t.Fatalf("dave got %s from a failed proposal", got.Balance.PHAString())
	}
	if got, want := balance(c, erin.Addr), pha(t, erinBefore, 20); got != want {
		t.Fatalf("erin holds %s, want %s: both deposits back", got.PHAString(), want.PHAString())
	}
}

// TestDelegatedStakeCountsOnce: carol's weight is her balance plus what
// she delegated; bob, the pool's owner, weighs his balance only, and the
// pool's account, holding carol's stake, is no voter.
func TestDelegatedStakeCountsOnce(t *testing.T) {
	c := newChain(t)
	c.MustSucceed(c.Tx(bob, poolsapi.MethodCreate, poolsapi.Create{}))
	delegated := token.PHA(1_000_000)
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: 1, Amount: delegated}))
	id := propose(t, c, token.PHA(10))
	for _, who := range []apptest.Account{alice, bob, carol} {
		vote(t, c, who, id, govapi.OptionYes)
	}
	want := balance(c, alice.Addr)
	for _, w := range []token.Amount{balance(c, bob.Addr), balance(c, carol.Addr), delegated} {
		var err error
		if want, err = want.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	cur := proposal(t, c, id).Current
	if cur == nil || cur.Yes != want || cur.Voters != 3 {
		t.Fatalf("current tally %+v, want yes %s of 3 voters", cur, want.PHAString())
	}
	if got := balance(c, poolsapi.Account(1)); got != delegated {
		t.Fatalf("pool account holds %s", got.PHAString())
	}
	eligible := eligibleNow(t, c)
	if cur.Eligible != eligible {
		t.Fatalf("eligible %s, want %s", cur.Eligible.PHAString(), eligible.PHAString())
	}
	p, _ := waitEnd(t, c, id)
	if p.Status != govapi.StatusPassed || p.Tally.Yes != want {
		t.Fatalf("ended %s with %+v, want yes %s", p.Status, p.Tally, want.PHAString())
	}
}

// eligibleNow is the supply less the accounts that cannot vote.
func eligibleNow(t *testing.T, c *apptest.Chain) token.Amount {
	t.Helper()
	out, err := bank.GetSupply(c.App.Store())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []address.Address{bankapi.RewardPool, bankapi.Treasury, bankapi.Community, govapi.Deposits, bankapi.Burned} {
		if out, err = out.Sub(balance(c, a)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestLatestVoteCounts: a second vote replaces the first.
func TestLatestVoteCounts(t *testing.T) {
	c := newChain(t)
	id := propose(t, c, token.PHA(10), setParams("quorum", "500000"))
	vote(t, c, alice, id, govapi.OptionNo)
	vote(t, c, bob, id, govapi.OptionVeto)
	vote(t, c, alice, id, govapi.OptionYes)
	vote(t, c, bob, id, govapi.OptionAbstain)
	var votes govapi.VoteList
	if err := c.Query(govapi.QueryVotes, codec.MustMarshal(govapi.ProposalQuery{ID: id}), &votes); err != nil || len(votes.Votes) != 2 {
		t.Fatalf("votes %+v %v", votes, err)
	}
	for _, v := range votes.Votes {
		if (v.Voter == alice.Addr && v.Option != govapi.OptionYes) || (v.Voter == bob.Addr && v.Option != govapi.OptionAbstain) {
			t.Fatalf("vote %+v is not the latest", v)
		}
	}
	p, _ := waitEnd(t, c, id)
	if p.Status != govapi.StatusPassed || !p.Tally.No.IsZero() || !p.Tally.Veto.IsZero() || p.Tally.Voters != 2 {
		t.Fatalf("%s %+v", p.Status, p.Tally)
	}
	if params(t, c).Quorum != 500_000 {
		t.Fatal("the passed change did not apply")
	}
}

// TestDepositPeriod: a proposal below MinDeposit waits; deposits that
// reach it open the voting period (and the deposit period's end no longer
// applies); one that stays short is dropped and every depositor refunded.
// A block with nothing due writes nothing.
func TestDepositPeriod(t *testing.T) {
	c := newChain(t)
	short := propose(t, c, token.PHA(1))
	filled := propose(t, c, token.PHA(2))
	bobBefore := balance(c, bob.Addr)
	c.MustSucceed(c.Tx(bob, govapi.MethodDeposit, govapi.Deposit{Proposal: short, Amount: token.PHA(3)}))
	c.MustSucceed(c.Tx(bob, govapi.MethodDeposit, govapi.Deposit{Proposal: filled, Amount: token.PHA(8)}))
	p := proposal(t, c, filled).Proposal
	if p.Status != govapi.StatusVoting || p.TotalDeposit != token.PHA(10) || p.VotingEnd != c.Now.Add(period).UnixNano() {
		t.Fatalf("filled %+v", p)
	}
	w := c.NothingWritten()
	c.Block()
	c.MustWrite(w)
	erinBefore := balance(c, erin.Addr)
	dropped, events := waitEnd(t, c, short)
	if dropped.Status != govapi.StatusDropped || !strings.Contains(strings.Join(events, " "), govapi.EventDropped) {
		t.Fatalf("short %+v, events %v", dropped, events)
	}
	if got := proposal(t, c, filled).Proposal.Status; got != govapi.StatusVoting {
		t.Fatalf("filled is %s at its old deposit end", got)
	}
	if got, want := balance(c, erin.Addr), pha(t, erinBefore, 1); got != want {
		t.Fatalf("erin holds %s, want %s", got.PHAString(), want.PHAString())
	}
	if got, want := balance(c, bob.Addr), pha(t, bobBefore, -2-8); got != want {
		t.Fatalf("bob holds %s, want %s: his 3 PHA back, 8 still on the voting proposal", got.PHAString(), want.PHAString())
	}
}

// TestRefusals: each refused transaction changes nothing but its fee.
func TestRefusals(t *testing.T) {
	c := newChain(t)
	ended := propose(t, c, token.PHA(10))
	waitEnd(t, c, ended)
	proposeWith := func(deposit token.Amount, actions ...govapi.Action) func() []byte {
		return func() []byte {
			return c.Tx(erin, govapi.MethodPropose, govapi.Propose{Title: "refused", Actions: actions, Deposit: deposit})
		}
	}
	transfer := govapi.Action{Method: bankapi.MethodTransfer, Body: codec.MustMarshal(bankapi.Transfer{To: dave.Addr, Amount: token.PHA(1)})}
	for _, tc := range []struct {
		name   string
		raw    func() []byte
		want   error
		logHas string
	}{
		{"unknown param", proposeWith(token.PHA(10), setParams("no_such_param", "1")), govapi.ErrBadAction, "no_such_param"},
		{"out of range", proposeWith(token.PHA(10), setParams("quorum", "0")), govapi.ErrBadAction, govapi.ErrParams.Error()},
		{"bad second action", proposeWith(token.PHA(10), setParams("quorum", "1"), setParams("threshold", "2000000")), govapi.ErrBadAction, "action 1"},
		{"not an authority method", proposeWith(token.PHA(10), transfer), govapi.ErrBadAction, "not a method governance may run"},
		{"unknown method", proposeWith(token.PHA(10), govapi.Action{Method: "gov.nope"}), govapi.ErrBadAction, "gov.nope"},
		{"spend above the treasury", proposeWith(token.PHA(10), spend(dave.Addr, token.PHA(1_000_000))), govapi.ErrBadAction, govapi.ErrTreasury.Error()},
		{"deposit below the minimum", proposeWith(token.FromUint64(500_000_000_000)), govapi.ErrDepositTooLow, ""},
		{"deposit beyond the balance", proposeWith(token.PHA(1_000)), bankapi.ErrInsufficientFunds, ""},
		{"no title", func() []byte { return c.Tx(erin, govapi.MethodPropose, govapi.Propose{Deposit: token.PHA(10)}) }, govapi.ErrInvalid, ""},
		{"vote after the period", func() []byte {
			return c.Tx(alice, govapi.MethodVote, govapi.Vote{Proposal: ended, Option: govapi.OptionYes})
		}, govapi.ErrNotVoting, ""},
		{"vote on an unknown proposal", func() []byte {
			return c.Tx(alice, govapi.MethodVote, govapi.Vote{Proposal: 99, Option: govapi.OptionYes})
		}, govapi.ErrUnknownProposal, ""},
		{"vote of no option", func() []byte { return c.Tx(alice, govapi.MethodVote, govapi.Vote{Proposal: ended, Option: 5}) }, govapi.ErrInvalid, ""},
		{"deposit on an ended proposal", func() []byte {
			return c.Tx(bob, govapi.MethodDeposit, govapi.Deposit{Proposal: ended, Amount: token.PHA(1)})
		}, govapi.ErrNotDepositing, ""},
		{"deposit of zero", func() []byte { return c.Tx(bob, govapi.MethodDeposit, govapi.Deposit{Proposal: ended}) }, govapi.ErrInvalid, ""},
		{"set_params by carol", func() []byte {
			return c.Tx(carol, govapi.MethodSetParams, module.ParamChange{Changes: []module.ParamValue{{Path: "quorum", Value: json.RawMessage("1")}}})
		}, govapi.ErrUnauthorized, "governance"},
		{"spend_treasury by carol", func() []byte {
			return c.Tx(carol, govapi.MethodSpendTreasury, govapi.Spend{To: carol.Addr, Amount: token.PHA(1)})
		}, govapi.ErrUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := params(t, c)
			_, r := c.MustRefuseCharged(tc.raw(), tc.want)
			if !strings.Contains(r.Log, tc.logHas) {
				t.Fatalf("log %q does not say %q", r.Log, tc.logHas)
			}
			if params(t, c) != before {
				t.Fatal("params changed")
			}
		})
	}
}

// TestVoterWithoutPower: an account that holds and delegates nothing
// cannot vote (here: one that spent everything on its fee).
func TestVoterWithoutPower(t *testing.T) {
	c := newChain(t)
	id := propose(t, c, token.PHA(10))
	c.MustSucceed(c.Tx(alice, bankapi.MethodTransfer, bankapi.Transfer{To: dave.Addr, Amount: fee}))
	_, r := c.MustRefuseCharged(c.Tx(dave, govapi.MethodVote, govapi.Vote{Proposal: id, Option: govapi.OptionYes}), govapi.ErrNoVotingPower)
	if !strings.Contains(r.Log, dave.Addr.String()) {
		t.Fatalf("log %q", r.Log)
	}
}

// TestQueries: the list pages newest first and filters by status; the
// params query lists governance's own params with their current values.
func TestQueries(t *testing.T) {
	c := newChain(t)
	var ids []uint64
	for _, d := range []uint64{1, 10, 1} {
		ids = append(ids, propose(t, c, token.PHA(d)))
	}
	for _, tc := range []struct {
		q    govapi.ListQuery
		want []uint64
		more bool
	}{
		{govapi.ListQuery{}, []uint64{3, 2, 1}, false},
		{govapi.ListQuery{Limit: 2}, []uint64{3, 2}, true},
		{govapi.ListQuery{Before: 2}, []uint64{1}, false},
		{govapi.ListQuery{Status: govapi.StatusVoting}, []uint64{2}, false},
		{govapi.ListQuery{Status: govapi.StatusDeposit, Limit: 1}, []uint64{3}, true},
		{govapi.ListQuery{Status: govapi.StatusPassed}, nil, false},
	} {
		var list govapi.ProposalList
		if err := c.Query(govapi.QueryProposals, codec.MustMarshal(tc.q), &list); err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, p := range list.Proposals {
			got = append(got, p.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || list.More != tc.more {
			t.Errorf("%+v: %v more %v, want %v more %v", tc.q, got, list.More, tc.want, tc.more)
		}
	}
	if ids[0] != 1 || proposal(t, c, 1).Current != nil || proposal(t, c, 2).Current == nil {
		t.Fatal("only a voting proposal has a current tally")
	}
	var info govapi.ProposalInfo
	if err := c.Query(govapi.QueryProposal, codec.MustMarshal(govapi.ProposalQuery{ID: 9}), &info); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("unknown proposal: %v", err)
	}
	if err := c.Query(govapi.QueryVotes, codec.MustMarshal(govapi.ProposalQuery{ID: 9}), &govapi.VoteList{}); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("votes of an unknown proposal: %v", err)
	}
	if err := c.Query(govapi.QueryProposals, []byte{0xff}, &govapi.ProposalList{}); !errors.Is(err, module.ErrBadQuery) {
		t.Fatalf("bad list query: %v", err)
	}
	var pi govapi.ParamsInfo
	if err := c.Query(govapi.QueryParams, nil, &pi); err != nil {
		t.Fatal(err)
	}
	if pi.Params != params(t, c) || len(pi.Governable) == 0 || pi.Governable[0].Method != govapi.MethodSetParams || len(pi.Governable[0].Params) != 7 {
		t.Fatalf("params info %+v", pi)
	}
	var current govapi.Params
	if err := json.Unmarshal(pi.Governable[0].Current, &current); err != nil || current != pi.Params {
		t.Fatalf("current %s: %v", pi.Governable[0].Current, err)
	}
	for _, g := range pi.Governable[1:] {
		if g.Method != g.Module+".set_params" || !json.Valid(g.Current) {
			t.Errorf("governable %+v", g)
		}
	}
}

// TestEndsBoundedPerBlock: proposals ending together end at most
// MaxEndsPerBlock a block, the rest in the next.
func TestEndsBoundedPerBlock(t *testing.T) {
	c := newChain(t)
	n := gov.MaxEndsPerBlock + 2
	nonce := c.Account(erin.Addr).Nonce
	var txs [][]byte
	for i := range n {
		txs = append(txs, c.Signed(erin, nonce+uint64(i), govapi.MethodPropose, govapi.Propose{Title: fmt.Sprint("p", i), Deposit: token.PHA(1)}))
	}
	for i, r := range c.Block(txs...).TxResults {
		if r.Code != 0 {
			t.Fatalf("proposal %d: %s", i, r.Log)
		}
	}
	dropped := func() int {
		var list govapi.ProposalList
		if err := c.Query(govapi.QueryProposals, codec.MustMarshal(govapi.ListQuery{Status: govapi.StatusDropped}), &list); err != nil {
			t.Fatal(err)
		}
		return len(list.Proposals)
	}
	for dropped() == 0 {
		c.Block()
	}
	if got := dropped(); got != gov.MaxEndsPerBlock {
		t.Fatalf("%d ended in one block, want %d", got, gov.MaxEndsPerBlock)
	}
	c.Block()
	if got := dropped(); got != n {
		t.Fatalf("%d ended after the next block, want %d", got, n)
	}
}

// TestUnsafeDevAdmin: a development chain's admin sends governance's own
// authority methods directly; anyone else is told who may.
func TestUnsafeDevAdmin(t *testing.T) {
	c := newChain(t, func(g *govapi.Genesis) { g.UnsafeDevAdmin = &bob.Addr })
	c.MustSucceed(c.Tx(carol, bankapi.MethodTransfer, bankapi.Transfer{To: bankapi.Treasury, Amount: token.PHA(5)}))
	c.MustSucceed(c.Tx(bob, govapi.MethodSpendTreasury, govapi.Spend{To: dave.Addr, Amount: token.PHA(2)}))
	if got := balance(c, dave.Addr); got != token.PHA(2) {
		t.Fatalf("dave holds %s", got.PHAString())
	}
	c.MustSucceed(c.Tx(bob, govapi.MethodSetParams, module.ParamChange{Changes: []module.ParamValue{{Path: "veto_threshold", Value: json.RawMessage("500000")}}}))
	if params(t, c).VetoThreshold != 500_000 {
		t.Fatal("the admin's change did not apply")
	}
	_, r := c.MustRefuseCharged(c.Tx(carol, govapi.MethodSpendTreasury, govapi.Spend{To: carol.Addr, Amount: token.PHA(1)}), govapi.ErrUnauthorized)
	if !strings.Contains(r.Log, bob.Addr.String()) {
		t.Fatalf("refusal %q does not name the admin", r.Log)
	}
	var pi govapi.ParamsInfo
	if err := c.Query(govapi.QueryParams, nil, &pi); err != nil || pi.UnsafeDevAdmin == nil || *pi.UnsafeDevAdmin != bob.Addr {
		t.Fatalf("params info admin %v (%v)", pi.UnsafeDevAdmin, err)
	}
}
