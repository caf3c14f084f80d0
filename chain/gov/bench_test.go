package gov_test

import (
	"fmt"
	"testing"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// BenchmarkTally1000Voters measures counting a proposal's votes, the work
// its end of voting does for the tally, as the proposal query does it:
// 1,000 voters, each weighed by balance and pool stake on committed state.
func BenchmarkTally1000Voters(b *testing.B) {
	const voters, perBlock = 1000, 250
	c := apptest.New(b)
	c.Block()
	accounts := make([]apptest.Account, voters)
	for i := range accounts {
		accounts[i] = apptest.Dev(fmt.Sprint("voter-", i))
	}
	nonce := c.Account(alice.Addr).Nonce
	for start := 0; start < voters; start += perBlock {
		var txs [][]byte
		for _, a := range accounts[start : start+perBlock] {
			txs = append(txs, c.Signed(alice, nonce, bankapi.MethodTransfer, bankapi.Transfer{To: a.Addr, Amount: token.PHA(2)}))
			nonce++
		}
		mustAll(b, c, txs)
	}
	c.MustSucceed(c.Tx(alice, govapi.MethodPropose, govapi.Propose{Title: "bench", Deposit: govapi.DefaultParams().MinDeposit}))
	for start := 0; start < voters; start += perBlock {
		var txs [][]byte
		for _, a := range accounts[start : start+perBlock] {
			txs = append(txs, c.Signed(a, 0, govapi.MethodVote, govapi.Vote{Proposal: 1, Option: govapi.OptionYes}))
		}
		mustAll(b, c, txs)
	}
	q := codec.MustMarshal(govapi.ProposalQuery{ID: 1})
	for b.Loop() {
		var info govapi.ProposalInfo
		if err := c.Query(govapi.QueryProposal, q, &info); err != nil || info.Current == nil || info.Current.Voters != voters {
			b.Fatalf("%v %+v", err, info.Current)
		}
	}
}

func mustAll(b *testing.B, c *apptest.Chain, txs [][]byte) {
	b.Helper()
	for i, r := range c.Block(txs...).TxResults {
		if r.Code != 0 {
			b.Fatalf("tx %d: %s", i, r.Log)
		}
	}
}
