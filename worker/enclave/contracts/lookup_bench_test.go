package contracts_test

import (
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/worker/enclave/contracts"
	"github.com/phala-go/phala/workerwire"
)

// fullModule is a module holding the most receipts and account events it
// keeps, as after a long run.
func fullModule(b *testing.B) *contracts.Module {
	b.Helper()
	var st contracts.State
	for i := range contracts.MaxReceipts {
		seq := uint64(i + 1)
		st.Receipts = append(st.Receipts, contracts.ReceiptRecord{Receipt: workerwire.Receipt{Seq: seq, TxHash: txHash(seq), Status: contractsapi.StatusOK}, ReplyKey: []byte{1}})
	}
	others := address.Module("others")
	for i := range contracts.MaxAccountEvents {
		st.LastEvent++
		st.Events = append(st.Events, contracts.EventRecord{Event: workerwire.AccountEvent{Index: st.LastEvent, Seq: uint64(i), Topic: "t"}, Audience: [][]byte{others[:]}})
	}
	m := contracts.New(nil, pageDir(b)) // no contracts: no pages read
	if err := m.UnmarshalState(codec.MustMarshal(st)); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkReceiptByTx: the worst case of a receipt asked for by
// transaction hash (a linear scan from the newest): the oldest kept.
func BenchmarkReceiptByTx(b *testing.B) {
	m := fullModule(b)
	oldest := txHash(1)
	for b.Loop() {
		if _, ok := m.ReceiptByTx(oldest); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkEventsFor: an account with no events among the most a worker
// keeps (every record is read).
func BenchmarkEventsFor(b *testing.B) {
	m := fullModule(b)
	me := address.Module("me")
	for b.Loop() {
		m.EventsFor(me, contractsapi.Hash{}, 0, 0)
	}
}
