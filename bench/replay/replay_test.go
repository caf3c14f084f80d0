package replay

import (
	"flag"
	"os"
	"testing"
)

var blocks = flag.Int("replay.blocks", 10_000, "chain length of BenchmarkReplay")

// TestReplaySmallChain replays a short generated chain: every message is
// folded and the runtime reaches the chain's end.
func TestReplaySmallChain(t *testing.T) {
	res, err := Run(Options{Blocks: 300, Batch: 100, Nodes: 20, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 300 || res.Messages == 0 || len(res.Memory) == 0 {
		t.Fatalf("result %+v", res)
	}
}

// TestReplayIsDeterministic: two fresh runtimes on the same chain keep the
// same state apart from their own identities, so the checkpoint sizes match.
func TestReplayIsDeterministic(t *testing.T) {
	a, err := Run(Options{Blocks: 120, Batch: 50, Nodes: 10, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(Options{Blocks: 120, Batch: 50, Nodes: 10, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if a.CheckpointSize != b.CheckpointSize || a.Messages != b.Messages {
		t.Fatalf("runs differ: %+v vs %+v", a, b)
	}
}

// BenchmarkReplay replays -replay.blocks generated blocks (default 10,000)
// into a fresh runtime and reports blocks/s, messages/s and the live heap
// the runtime retains at the end.
func BenchmarkReplay(b *testing.B) {
	for b.Loop() {
		res, err := Run(Options{Blocks: *blocks, Home: b.TempDir(), Progress: os.Stderr})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.BlocksPerSecond, "blocks/s")
		b.ReportMetric(res.MsgsPerSecond, "msgs/s")
		b.ReportMetric(float64(res.Memory[len(res.Memory)-1].LiveHeapBytes)/(1<<20), "live-MiB")
	}
}
