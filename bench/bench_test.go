package bench

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/node"
)

var (
	benchDuration = flag.Duration("bench.duration", 3*time.Second, "measured window of each BenchmarkTransfers run")
	benchOnly     = flag.String("bench.only", "", `run only "trivial", "signed-trivial" or "transfers" in BenchmarkTransfers (e.g. to profile one)`)
)

// testOptions are a short run that logs its progress through t.
func testOptions(t testing.TB, d time.Duration) Options {
	return Options{Duration: d, Accounts: 500, Progress: testWriter{t}}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestTransfersCommit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	o := testOptions(t, 2*time.Second)
	o.Dir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Transfers(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Committed == 0 {
		t.Fatal("no transfer committed")
	}
	if res.Failed != 0 || res.Rejected != 0 {
		t.Fatalf("%d transfers failed in blocks, %d refused by CheckTx", res.Failed, res.Rejected)
	}
	if res.Committed > res.Submitted {
		t.Fatalf("%d committed but only %d submitted", res.Committed, res.Submitted)
	}

	// The node has stopped: reopen the application store and check the supply.
	a, err := app.New(ChainID, node.Home(dir).AppDataDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := bank.CheckSupply(a.Store()); err != nil {
		t.Fatal(err)
	}
}

func TestTrivialCommits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Trivial(ctx, testOptions(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed == 0 || res.Failed != 0 || res.Rejected != 0 {
		t.Fatalf("trivial app: %+v", res)
	}
	size, err := TransferSize()
	if err != nil || res.TxBytes != size {
		t.Fatalf("trivial txs are %d bytes, transfers %d (%v)", res.TxBytes, size, err)
	}
}

func TestGenesisFundsSenders(t *testing.T) {
	senders := newSenders(7)
	raw, err := genesisAppState(senders)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ChainID, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	req := &abci.InitChainRequest{ChainId: ChainID, Time: time.Unix(1, 0), AppStateBytes: raw}
	if _, err := a.InitChain(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := bank.CheckSupply(a.Store()); err != nil {
		t.Fatal(err)
	}
	for _, s := range senders {
		acc, err := bank.GetAccount(a.Store(), s.addr)
		if err != nil || acc.Balance.IsZero() {
			t.Fatalf("sender %s not funded: %v", s.addr, err)
		}
	}
}

// BenchmarkTransfers runs the trivial application, the signed trivial one
// and then phala for -bench.duration each (b.N is ignored: one run is the
// measurement) and reports the rates and phala's ratio to each baseline.
func BenchmarkTransfers(b *testing.B) {
	ctx := context.Background()
	o := Options{Duration: *benchDuration, Progress: os.Stderr}
	runs := []struct {
		name, metric string
		run          func(context.Context, Options) (Result, error)
		res          Result
	}{
		{"trivial", "trivial/s", Trivial, Result{}},
		{"signed-trivial", "signed-trivial/s", SignedTrivial, Result{}},
		{"transfers", "transfers/s", Transfers, Result{}},
	}
	for range b.N {
		for i := range runs {
			if *benchOnly != "" && *benchOnly != runs[i].name {
				continue
			}
			var err error
			if runs[i].res, err = runs[i].run(ctx, o); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(runs[i].res.PerSecond, runs[i].metric)
		}
		break
	}
	b.ReportMetric(0, "ns/op")
	triv, signed, ours := runs[0].res, runs[1].res, runs[2].res
	if triv.PerSecond > 0 && ours.PerSecond > 0 {
		b.ReportMetric(ours.PerSecond/triv.PerSecond, "ratio")
	}
	if signed.PerSecond > 0 && ours.PerSecond > 0 {
		b.ReportMetric(ours.PerSecond/signed.PerSecond, "ratio-signed")
	}
}

func TestSplitBySenderKeepsNonceOrder(t *testing.T) {
	const senders, count, feeders = 5, 43, 3
	txs := make([][]byte, count)
	for k := range txs {
		txs[k] = []byte{byte(k)}
	}
	seen := map[int]int{} // sender -> feeder
	got := 0
	for j, next := range splitBySender(txs, senders, feeders) {
		last := map[int]int{} // sender -> last nonce
		for raw := next(); raw != nil; raw = next() {
			k := int(raw[0])
			s, nonce := k%senders, k/senders
			if f, ok := seen[s]; ok && f != j {
				t.Fatalf("sender %d fed by %d and %d", s, f, j)
			}
			seen[s] = j
			if prev, ok := last[s]; ok && nonce != prev+1 {
				t.Fatalf("sender %d: nonce %d after %d", s, nonce, prev)
			}
			last[s] = nonce
			got++
		}
	}
	if got != count {
		t.Fatalf("%d of %d transactions fed", got, count)
	}
}
