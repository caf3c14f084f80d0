package contracts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave/contracts"
	"github.com/phala-go/phala/worker/enclave/module"
)

// generations holds several cluster key generations of one cluster.
type generations struct {
	cluster string
	keys    map[uint32]derive.ClusterKey
}

func (s generations) Master(uint32) (derive.MasterKey, bool) { return derive.MasterKey{}, false }
func (s generations) Cluster(c string, g uint32) (derive.ClusterKey, bool) {
	k, ok := s.keys[g]
	return k, ok && c == s.cluster
}
func (s generations) Sealed([]byte) ([]byte, bool) { return nil, false }

// blockWith folds msgs as block h with the secrets sec.
func (w *world) blockWith(m *contracts.Module, h int64, sec generations, msgs ...mq.Message) []module.Egress {
	w.t.Helper()
	ctx := w.ctx(h, registryapi.RoleWorker)
	ctx.Secrets = sec
	m.BeginBlock(ctx)
	for _, msg := range msgs {
		if _, err := m.Fold(ctx, msg); err != nil {
			w.t.Fatalf("fold %s: %v", msg.Topic, err)
		}
	}
	return m.EndBlock(ctx).Egress
}

func (w *world) query(m *contracts.Module, h int64, method string) string {
	w.t.Helper()
	st, res := m.RunQuery(w.ctx(h, registryapi.RoleWorker), w.id, w.deployer[:], method, []byte(`{}`), 100_000_000)
	if st != contractsapi.StatusOK {
		w.t.Fatalf("query %s: %s %s", method, st, res.Output)
	}
	return string(res.Output)
}

func lastReceipt(t *testing.T, m *contracts.Module) contracts.ReceiptRecord {
	t.Helper()
	recs := m.Receipts()
	if len(recs) == 0 {
		t.Fatal("no receipts")
	}
	return recs[len(recs)-1]
}

func pageFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() && e.Name() == ".free" {
			return filepath.SkipDir // files kept for reuse, not pages
		}
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestartOverSameFiles: a module restored from another's checkpoint
// over the same page files has the same roots and values, and goes on to
// the same results; a checkpoint whose pages are gone is refused (so the
// runtime falls back to an older one or to genesis and rebuilds them).
func TestRestartOverSameFiles(t *testing.T) {
	w := newWorld(t)
	dir := pageDir(t)
	m := contracts.New(w.vm, dir)
	bob := address.Module("bob")
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000}`)...)
	for h := int64(2); h <= 4; h++ {
		w.block(m, h, registryapi.RoleWorker, w.command(uint64(h), w.deployer, "transfer", transfer(bob, int(h)), 200_000_000))
	}
	section := m.MarshalState()
	if _, err := m.Checkpointed(); err != nil {
		t.Fatal(err)
	}
	root, _ := m.Root(w.id)
	if root == (contractsapi.Hash{}) {
		t.Fatal("no state root")
	}

	restored := contracts.New(w.vm, dir)
	if err := restored.UnmarshalState(section); err != nil {
		t.Fatal(err)
	}
	if got, _ := restored.Root(w.id); got != root || !bytes.Equal(restored.MarshalState(), section) {
		t.Fatalf("restored root %s, want %s", got, root)
	}
	for _, q := range []string{"balance", "total_supply"} {
		if a, b := w.query(m, 4, q), w.query(restored, 4, q); a != b {
			t.Fatalf("%s: %s before the restart, %s after", q, a, b)
		}
	}
	if got := w.query(restored, 4, "balance"); got != "991" {
		t.Fatalf("balance %s after the restart, want 991", got)
	}
	next := w.command(5, w.deployer, "transfer", transfer(bob, 5), 200_000_000)
	a := results(t, w.block(m, 5, registryapi.RoleWorker, next))
	b := results(t, w.block(restored, 5, registryapi.RoleWorker, next))
	if len(a) != 1 || len(b) != 1 || a[0].Roots[0] != b[0].Roots[0] || a[0].Roots[0].Root == root {
		t.Fatalf("results after the restart differ: %+v and %+v", a, b)
	}

	if err := os.RemoveAll(filepath.Join(dir.Path())); err != nil {
		t.Fatal(err)
	}
	if err := contracts.New(w.vm, dir).UnmarshalState(section); err == nil || !strings.Contains(err.Error(), "state root page") {
		t.Fatalf("a checkpoint whose pages are gone: %v", err)
	}
}

// TestKeyRotation: a contract started under generation 1 keeps its state
// (and its root) when the master key rotates: commands sealed to
// generation 2 read and write the state sealed under generation 1's
// state keys, also after a restart. The keystore keeps old generations;
// a worker without generation 1 cannot run the contract at all.
func TestKeyRotation(t *testing.T) {
	w := newWorld(t)
	var master2 derive.MasterKey
	copy(master2[:], bytes.Repeat([]byte{9}, len(master2)))
	ck2, err := master2.Cluster(chainID, []byte("default"))
	if err != nil {
		t.Fatal(err)
	}
	ct2, err := ck2.Contract(chainID, w.id[:])
	if err != nil {
		t.Fatal(err)
	}
	priv2, err := ct2.EncryptionKey(chainID)
	if err != nil {
		t.Fatal(err)
	}
	gen1 := generations{"default", map[uint32]derive.ClusterKey{1: w.secrets.key}}
	both := generations{"default", map[uint32]derive.ClusterKey{1: w.secrets.key, 2: ck2}}
	onlyNew := generations{"default", map[uint32]derive.ClusterKey{2: ck2}}
	bob := address.Module("bob")
	sealedTo2 := func(o *cmdOpts) { o.gen, o.key = 2, priv2.PublicKey() }

	dir := pageDir(t)
	m := contracts.New(w.vm, dir)
	w.blockWith(m, 1, gen1, w.setup(`{"supply":1000}`)...)
	w.blockWith(m, 2, gen1, w.command(1, w.deployer, "transfer", transfer(bob, 10), 200_000_000))
	before, _ := m.Root(w.id)
	w.blockWith(m, 3, both, msg(keysapi.TopicMasterRecorded, keysapi.MasterRecorded{Generation: 2, PublicKey: []byte{2}, Sender: make([]byte, 32)}))
	if after, _ := m.Root(w.id); after != before {
		t.Fatal("a rotation alone moved the state root")
	}
	rs := results(t, w.blockWith(m, 4, both, w.command(2, w.deployer, "transfer", transfer(bob, 10), 200_000_000, sealedTo2)))
	if rec := lastReceipt(t, m); rs[0].Commands[0].Status != contractsapi.StatusOK || string(rec.Receipt.Output) != "980" {
		t.Fatalf("a command sealed to generation 2: %+v, output %s", rs[0].Commands, rec.Receipt.Output)
	}

	section := m.MarshalState()
	restarted := contracts.New(w.vm, dir)
	if err := restarted.UnmarshalState(section); err != nil {
		t.Fatal(err)
	}
	w.blockWith(restarted, 5, both, w.command(3, w.deployer, "transfer", transfer(bob, 10), 200_000_000, sealedTo2))
	if rec := lastReceipt(t, restarted); rec.Receipt.Status != contractsapi.StatusOK || string(rec.Receipt.Output) != "970" {
		t.Fatalf("after a restart: %+v", rec.Receipt)
	}

	lost := contracts.New(w.vm, dir)
	if err := lost.UnmarshalState(section); err != nil {
		t.Fatal(err)
	}
	rs = results(t, w.blockWith(lost, 5, onlyNew, w.command(3, w.deployer, "transfer", transfer(bob, 10), 200_000_000, sealedTo2)))
	if rs[0].Commands[0].Status != contractsapi.StatusNoKey {
		t.Fatalf("without the contract's own generation: %+v", rs[0].Commands)
	}
}

// TestTamperedStateWithholdsResults: pages edited outside the enclave
// stop the contract: the command fails and no results for its block are
// sent (a result computed over unchecked state would be a lie).
func TestTamperedStateWithholdsResults(t *testing.T) {
	w := newWorld(t)
	dir := pageDir(t)
	m := contracts.New(w.vm, dir)
	bob := address.Module("bob")
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000}`)...)
	section := m.MarshalState()
	for _, p := range pageFiles(t, dir.Path()) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-1] ^= 1
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	restored := contracts.New(w.vm, dir)
	if err := restored.UnmarshalState(section); err != nil {
		t.Fatal(err)
	}
	if eg := w.block(restored, 2, registryapi.RoleWorker, w.command(1, w.deployer, "transfer", transfer(bob, 1), 200_000_000)); len(eg) != 0 {
		t.Fatalf("results sent over tampered state: %+v", results(t, eg))
	}
	if rec := lastReceipt(t, restored); rec.Receipt.Status == contractsapi.StatusOK {
		t.Fatalf("a command ran over tampered state: %+v", rec.Receipt)
	}
	files := len(pageFiles(t, dir.Path()))
	if n, _ := restored.Checkpointed(); n != 0 || len(pageFiles(t, dir.Path())) != files {
		t.Fatalf("a stopped tree swept %d pages", n)
	}
	st, _ := restored.RunQuery(w.ctx(2, registryapi.RoleWorker), w.id, w.deployer[:], "balance", []byte(`{}`), 100_000_000)
	if st == contractsapi.StatusOK {
		t.Fatal("a query ran over tampered state")
	}
}

// TestOldPagesCollected: the disk holds the versions of the two newest
// checkpoints and the current one, not the history: versions between
// checkpoints go at the commit that replaces them, older checkpoints'
// at the next checkpoint but one.
func TestOldPagesCollected(t *testing.T) {
	w := newWorld(t)
	dir := pageDir(t)
	m := contracts.New(w.vm, dir)
	bob := address.Module("bob")
	seq := uint64(0)
	blocks := func(from, to int64) {
		for h := from; h <= to; h++ {
			seq++
			w.block(m, h, registryapi.RoleWorker, w.command(seq, w.deployer, "transfer", transfer(bob, 1), 200_000_000))
		}
	}
	checkpoint := func() []byte {
		section := m.MarshalState()
		if _, err := m.Checkpointed(); err != nil {
			t.Fatal(err)
		}
		return section
	}
	pages := func(want int, when string) {
		t.Helper()
		if n := len(pageFiles(t, dir.Path())); n != want { // the token's state is one leaf
			t.Fatalf("%d pages %s, want %d", n, when, want)
		}
	}
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000}`)...)
	a := checkpoint()
	pages(1, "at the first checkpoint")
	blocks(2, 31)
	pages(2, "30 blocks later: the checkpoint's version and the current one")
	b := checkpoint()
	pages(2, "at the second checkpoint")
	blocks(32, 41)
	pages(3, "between the second and the third")
	checkpoint()
	pages(2, "at the third checkpoint: the first one's version went")
	older := contracts.New(w.vm, dir)
	if err := older.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	if got := w.query(older, 31, "balance"); got != "970" {
		t.Fatalf("the checkpoint before the newest reads balance %s, want 970", got)
	}
	if err := contracts.New(w.vm, dir).UnmarshalState(a); err == nil {
		t.Fatal("the pages of a checkpoint the runtime no longer keeps are still there")
	}
}
