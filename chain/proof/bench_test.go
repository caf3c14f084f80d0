package proof_test

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/proof"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// benchAccounts is how many accounts the proof benchmarks hold:
// PHALA_BENCH_ACCOUNTS, default one million (the figure). Building
// them takes most of a minute, once per process.
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("PHALA_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchItem = state.NewKeyFormat(0x7d, 0x01) // shaped like the bank's address → Account

func accountKey(i int) []byte {
	a := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return benchItem.Key(a[:20])
}

type bigState struct {
	s       *store.Store
	n       int
	height  int64
	appHash []byte
	step    proof.AppHashStep
}

// bigFixture commits n accounts in blocks of 100,000 writes.
func bigFixture(b *testing.B) *bigState {
	s, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	n := benchAccounts()
	value := codec.MustMarshal(bankapi.Account{Balance: token.PHA(1234), Nonce: 7})
	start := time.Now()
	var prev []byte
	const perBlock = 100_000
	h := int64(0)
	for done := 0; done < n; h++ {
		changes := make([]state.Change, 0, perBlock)
		for ; done < n && len(changes) < perBlock; done++ {
			changes = append(changes, state.Change{Key: accountKey(done), Value: value})
		}
		root, err := s.Stage(changes)
		if err != nil {
			b.Fatal(err)
		}
		if prev, err = (mq.Block{Height: h, StateRoot: root}).AppHash(chainID, prev); err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(store.Meta{Height: h, AppHash: prev}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built %d accounts in %d blocks in %v", n, h, time.Since(start).Round(time.Millisecond))
	prevHash, _, _ := s.AppHash(h - 2)
	root := mq.Root(chainID, nil)
	return &bigState{s: s, n: n, height: h - 1, appHash: prev,
		step: proof.AppHashStep{Height: h - 1, PrevAppHash: prevHash, MessagesRoot: root[:]}}
}

// BenchmarkProofs measures, over a state of benchAccounts() accounts, making
// a proof on the node (present and absent keys) and checking it on the
// client, and reports the proof's size.
func BenchmarkProofs(b *testing.B) {
	f := bigFixture(b)
	for _, tc := range []struct {
		name string
		key  func(i int) []byte
	}{
		{"present", func(i int) []byte { return accountKey(i % f.n) }},
		{"absent", func(i int) []byte { return accountKey(f.n + i) }},
	} {
		b.Run("make/"+tc.name, func(b *testing.B) {
			size := 0
			for i := 0; b.Loop(); i++ {
				_, p, err := f.s.Proof(f.height, tc.key(i*7919))
				if err != nil {
					b.Fatal(err)
				}
				ops, _ := proof.Make(tc.key(i*7919), p, f.step)
				size = len(ops[0].Data) + len(ops[1].Data)
			}
			b.ReportMetric(float64(size), "proof-bytes")
		})
		b.Run("verify/"+tc.name, func(b *testing.B) {
			type answer struct {
				key, value []byte
				ops        []proof.Op
			}
			answers := make([]answer, 256)
			for i := range answers {
				k := tc.key(i * 7919)
				v, p, err := f.s.Proof(f.height, k)
				if err != nil {
					b.Fatal(err)
				}
				ops, _ := proof.Make(k, p, f.step)
				answers[i] = answer{k, v, ops}
			}
			for i := 0; b.Loop(); i++ {
				a := answers[i%len(answers)]
				if err := proof.Verify(chainID, f.appHash, f.height, a.key, a.value, a.ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
