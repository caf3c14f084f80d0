package rewards

import (
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/worker/enclave/module"
)

// maxCatchUp is how many periods one block settles at most.
const maxCatchUp = 16

// settledUntil is the block time the settled periods end at.
func (m *Module) settledUntil() int64 {
	return m.st.Start + int64(m.st.Settled)*int64(m.st.Params.SettleEvery)
}

// settleDue settles, in order, every period that ended by now (at most
// maxCatchUp), and keeps the payloads for the block's end.
func (m *Module) settleDue(ctx *module.Context, now int64) {
	length, start := m.st.Params.SettleEvery, m.st.Start
	if length <= 0 || start == 0 || now < start {
		return
	}
	ended := uint64((now - start) / int64(length)) // periods ended by now
	if ended > m.st.Settled+maxCatchUp {
		// A long gap between blocks (a halted chain): the oldest periods
		// of it go unsettled and their emission stays in the reward pool;
		// the sessions' time in them counts in the first one settled.
		m.st.Settled = ended - maxCatchUp
	}
	for m.st.Settled < ended {
		if len(m.st.Accounts) == 0 {
			// Nothing to account for until the next session starts,
			// which can only come in this block or later.
			m.st.Settled = ended
			return
		}
		per := Period{N: m.st.Settled + 1, Start: start, Length: length}
		m.st.Settled = per.N
		parts, err := m.settle(per)
		if err != nil {
			// Every gatekeeper fails alike (the inputs are the same):
			// the period goes unpaid and its budget stays in the pool.
			ctx.Log.Error("cannot settle a period", "period", per.N, "err", err)
			continue
		}
		m.out = append(m.out, parts...)
	}
}

// settle accounts for one period, drops the sessions that stopped in it
// and returns the settlement's parts, encoded.
func (m *Module) settle(per Period) ([][]byte, error) {
	entries, err := settle(m.st.Params, m.rates, per, m.st.Accounts)
	if err != nil {
		return nil, err
	}
	kept := m.st.Accounts[:0]
	for _, a := range m.st.Accounts {
		if !a.stopped() {
			kept = append(kept, a)
		}
	}
	clear(m.st.Accounts[len(kept):])
	m.st.Accounts = kept
	if len(m.st.Accounts) == 0 {
		m.st.Accounts = nil
	}
	return Parts(per.N, entries), nil
}

// Parts cuts a period's entries (by session id) into settlement parts of
// at most computeapi.MaxSettlementWorkers, encoded.
func Parts(period uint64, entries []computeapi.WorkerSettlement) [][]byte {
	const size = computeapi.MaxSettlementWorkers
	n := max(1, (len(entries)+size-1)/size)
	out := make([][]byte, n)
	for i := range n {
		chunk := entries[i*size : min(len(entries), (i+1)*size)]
		out[i] = codec.MustMarshal(computeapi.Settlement{Period: period, Part: uint32(i), Parts: uint32(n), Workers: chunk})
	}
	return out
}
