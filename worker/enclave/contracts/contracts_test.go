package contracts_test

import (
	"bytes"
	"context"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/vm/wasmbuild"
	"github.com/phala-go/phala/worker/enclave/contracts"
	"github.com/phala-go/phala/worker/enclave/contracts/engine"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/pagefile"
	"github.com/phala-go/phala/workerwire"
)

const chainID = "contracts-test"

var (
	buildOnce sync.Once
	tokenCode []byte
	buildErr  error
	cacheDir  string
)

// buildToken builds the token contract once per test process.
func buildToken(t testing.TB) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go contract")
	}
	buildOnce.Do(func() {
		dir, _ := filepath.Abs("../../../contracts/token")
		tmp, err := mkdirTemp()
		if err != nil {
			buildErr = err
			return
		}
		cacheDir = tmp
		tokenCode, buildErr = wasmbuild.NewCache(filepath.Join(tmp, "build")).Code(context.Background(), dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return tokenCode
}

// secrets holds one cluster key generation.
type secrets struct {
	cluster string
	gen     uint32
	key     derive.ClusterKey
}

func (s secrets) Master(uint32) (derive.MasterKey, bool) { return derive.MasterKey{}, false }
func (s secrets) Cluster(c string, g uint32) (derive.ClusterKey, bool) {
	return s.key, c == s.cluster && g == s.gen
}
func (s secrets) Sealed([]byte) ([]byte, bool) { return nil, false }

type world struct {
	t        testing.TB
	secrets  secrets
	clusterP hpke.PublicKey
	vm       *engine.VM
	deployer address.Address
	code     []byte
	codeHash contractsapi.Hash
	id       contractsapi.Hash
}

func newWorld(t testing.TB) *world {
	t.Helper()
	code := buildToken(t)
	var master derive.MasterKey
	copy(master[:], bytes.Repeat([]byte{7}, len(master)))
	ck, err := master.Cluster(chainID, []byte("default"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ck.EncryptionKey(chainID)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, secrets: secrets{"default", 1, ck}, clusterP: priv.PublicKey(), vm: engine.New(filepath.Join(cacheDir, "vm")),
		deployer: address.Module("deployer"), code: code, codeHash: sha256.Sum256(code)}
	w.id = contractsapi.ContractID(chainID, w.deployer, w.codeHash, "default", nil)
	t.Cleanup(func() { _ = w.vm.Close(context.Background()) })
	return w
}

func (w *world) ctx(h int64, role registryapi.Role) *module.Context {
	return &module.Context{ChainID: chainID, Role: role, Height: h, Time: time.Unix(1_700_000_000+h, 0),
		Secrets: w.secrets, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// block folds msgs into m as block h and returns the egress.
func (w *world) block(m *contracts.Module, h int64, role registryapi.Role, msgs ...mq.Message) []module.Egress {
	w.t.Helper()
	ctx := w.ctx(h, role)
	m.BeginBlock(ctx)
	for _, msg := range msgs {
		if _, err := m.Fold(ctx, msg); err != nil {
			w.t.Fatalf("fold %s: %v", msg.Topic, err)
		}
	}
	return m.EndBlock(ctx).Egress
}

func msg(topic string, v any) mq.Message {
	return mq.Message{Topic: topic, Payload: codec.MustMarshal(v)}
}

// setup: generation 1 recorded, the code uploaded in two chunks (the
// hash checked), and the contract instantiated with init args.
func (w *world) setup(init string) []mq.Message {
	up := address.Module("uploader")
	sealed, err := envelope.Seal(chainID, envelope.Command, w.clusterP, codec.MustMarshal(contractsapi.Init{Args: []byte(init)}), contractsapi.InitAAD(w.id))
	if err != nil {
		w.t.Fatal(err)
	}
	msgs := []mq.Message{msg(keysapi.TopicMasterRecorded, keysapi.MasterRecorded{Generation: 1, PublicKey: []byte{1}, Sender: make([]byte, 32)})}
	for off := 0; off < len(w.code); off += contractsapi.DefaultChunk {
		end := min(off+contractsapi.DefaultChunk, len(w.code))
		msgs = append(msgs, msg(contractsapi.TopicCode, contractsapi.CodeChunk{Uploader: up, CodeHash: w.codeHash, Size: uint64(len(w.code)), Offset: uint64(off), Chunk: w.code[off:end]}))
	}
	return append(msgs,
		msg(contractsapi.TopicCodeStored, contractsapi.Code{Hash: w.codeHash, Size: uint64(len(w.code)), Uploader: up, Height: 1}),
		msg(contractsapi.TopicInstantiate, contractsapi.Instantiated{Contract: w.id, CodeHash: w.codeHash, Cluster: "default", Deployer: w.deployer, InitArgs: sealed}),
	)
}

func (w *world) contractPub(g uint32) hpke.PublicKey {
	ct, err := w.secrets.key.Contract(chainID, w.id[:])
	if err != nil {
		w.t.Fatal(err)
	}
	if g != w.secrets.gen {
		var other derive.ClusterKey
		if ct, err = other.Contract(chainID, w.id[:]); err != nil {
			w.t.Fatal(err)
		}
	}
	priv, err := ct.EncryptionKey(chainID)
	if err != nil {
		w.t.Fatal(err)
	}
	return priv.PublicKey()
}

// command is a contracts.command message: method and args sealed by
// sender to the contract key (sealTo overrides the key; plain overrides
// the plaintext).
func (w *world) command(seq uint64, sender address.Address, method, args string, gas uint64, opts ...func(*cmdOpts)) mq.Message {
	w.t.Helper()
	o := cmdOpts{gen: 1, key: w.contractPub(1)}
	for _, f := range opts {
		f(&o)
	}
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		w.t.Fatal(err)
	}
	plain := codec.MustMarshal(contractsapi.CommandPlain{Method: method, Args: []byte(args), ReplyKey: reply.PublicKey().Bytes()})
	if o.plain != nil {
		plain = o.plain
	}
	sealed, err := envelope.Seal(chainID, envelope.Command, o.key, plain, contractsapi.CommandAAD(w.id, sender))
	if err != nil {
		w.t.Fatal(err)
	}
	return msg(contractsapi.TopicCommand, contractsapi.CommandMessage{Seq: seq, Contract: w.id, Sender: sender, Generation: o.gen, Sealed: sealed, GasLimit: gas, TxHash: txHash(seq)})
}

// txHash is the hash of the transaction of test command seq.
func txHash(seq uint64) contractsapi.Hash {
	return sha256.Sum256([]byte("tx " + strconv.FormatUint(seq, 10)))
}

type cmdOpts struct {
	gen   uint32
	key   hpke.PublicKey
	plain []byte
}

func results(t *testing.T, eg []module.Egress) []contractsapi.Results {
	t.Helper()
	var out []contractsapi.Results
	for _, e := range eg {
		if e.Topic != contractsapi.TopicResults {
			t.Fatalf("egress on %s", e.Topic)
		}
		r, err := contractsapi.DecodeResults(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "contracts-module") }

func TestMain(m *testing.M) {
	code := m.Run()
	if cacheDir != "" {
		_ = os.RemoveAll(cacheDir)
	}
	os.Exit(code)
}

func transfer(to address.Address, amount int) string {
	return `{"to":"` + hex.EncodeToString(to[:]) + `","amount":` + strconv.Itoa(amount) + `}`
}

// TestCommands runs a block of commands, good and bad, through the
// token: each gets its coded status, the block goes on, the results list
// them in chain order with the contract's state root, and a second module
// fed the same blocks (and a third restored from a checkpoint of the
// first after the instantiation) reports byte-identical results.
func TestCommands(t *testing.T) {
	w := newWorld(t)
	bob := address.Module("bob")
	const gas = 200_000_000
	rows := []struct {
		name    string
		msg     mq.Message
		status  contractsapi.Status
		gasUsed func(uint64) bool
	}{
		{"transfer", w.command(1, w.deployer, "transfer", transfer(bob, 10), gas), contractsapi.StatusOK, func(g uint64) bool { return g > 0 && g < gas }},
		{"out of gas", w.command(2, w.deployer, "transfer", transfer(bob, 10), 1_000), contractsapi.StatusOutOfGas, func(g uint64) bool { return g == 1_000 }},
		{"unknown method", w.command(3, w.deployer, "mint_more", `{}`, gas), contractsapi.StatusReverted, func(g uint64) bool { return g > 0 }},
		{"revert", w.command(4, bob, "transfer", transfer(w.deployer, 11), gas), contractsapi.StatusReverted, func(g uint64) bool { return g > 0 }},
		{"undecryptable", w.command(5, bob, "transfer", "{}", gas, func(o *cmdOpts) { o.key = w.clusterP }), contractsapi.StatusUndecryptable, isZero},
		{"generation not held", w.command(6, bob, "transfer", "{}", gas, func(o *cmdOpts) { o.gen, o.key = 2, w.contractPub(2) }), contractsapi.StatusNoKey, isZero},
		{"malformed plaintext", w.command(7, bob, "", "", gas, func(o *cmdOpts) { o.plain = []byte("not cbor") }), contractsapi.StatusMalformed, isZero},
		{"after the failures", w.command(8, bob, "transfer", transfer(w.deployer, 3), gas), contractsapi.StatusOK, func(g uint64) bool { return g > 0 }},
	}
	var block []mq.Message
	for _, r := range rows {
		block = append(block, r.msg)
	}
	dir := pageDir(t)
	m := contracts.New(w.vm, dir)
	if eg := w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000}`)...); len(eg) != 0 {
		t.Fatalf("egress without commands: %v", eg)
	}
	if st, ok := m.ContractStatus(w.id); !ok || st != contractsapi.StatusOK {
		t.Fatalf("constructor: %v %v", st, ok)
	}
	checkpoint := m.MarshalState()
	if _, err := m.Checkpointed(); err != nil { // as the runtime does once it sealed one
		t.Fatal(err)
	}
	before, _ := m.Root(w.id)
	rs := results(t, w.block(m, 2, registryapi.RoleWorker, block...))
	if len(rs) != 1 || rs[0].Height != 2 || rs[0].Cluster != "default" || len(rs[0].Commands) != len(rows) {
		t.Fatalf("results %+v", rs)
	}
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			c := rs[0].Commands[i]
			if c.Seq != uint64(i+1) || c.Status != r.status || !r.gasUsed(c.GasUsed) {
				t.Fatalf("result %+v, want status %s", c, r.status)
			}
		})
	}
	after, _ := m.Root(w.id)
	if len(rs[0].Roots) != 1 || rs[0].Roots[0].Contract != w.id || rs[0].Roots[0].Root != after || after == before {
		t.Fatalf("roots %+v (before %s, after %s)", rs[0].Roots, before, after)
	}
	// Receipts: kept for every command, by seq and by transaction; those
	// that never opened have no reply key (they are served unsealed).
	recs := m.Receipts()
	if len(recs) != len(rows) || recs[0].Receipt.Seq != 1 || string(recs[0].Receipt.Output) != "990" || recs[1].Receipt.Status != contractsapi.StatusOutOfGas {
		t.Fatalf("receipts %+v", recs)
	}
	for i, r := range recs {
		if opened := r.ReplyKey != nil; opened == workerwire.NeverOpened(r.Receipt.Status) || r.Receipt.TxHash != txHash(r.Receipt.Seq) || r.Receipt.Generation == 0 {
			t.Fatalf("receipt %d: %+v (reply key %v)", i, r.Receipt, opened)
		}
		if got, ok := m.ReceiptByTx(txHash(r.Receipt.Seq)); !ok || got.Receipt.Seq != r.Receipt.Seq {
			t.Fatalf("receipt of transaction %d: %+v %v", r.Receipt.Seq, got, ok)
		}
	}
	if _, ok := m.ReceiptByTx(txHash(999)); ok {
		t.Fatal("a receipt for a transaction never sent")
	}
	if got, ok := m.Receipt(recs[2].Receipt.Seq); !ok || got.Receipt.Seq != recs[2].Receipt.Seq || !bytes.Equal(got.ReplyKey, recs[2].ReplyKey) {
		t.Fatalf("receipt %d: %+v %v", recs[2].Receipt.Seq, got, ok)
	}
	if _, ok := m.Receipt(999); ok {
		t.Fatal("a receipt for a command never sent")
	}

	// Determinism: a fresh module, and one restored after block 1.
	fresh := newModule(w) // pages of its own
	w.block(fresh, 1, registryapi.RoleWorker, w.setup(`{"supply":1000}`)...)
	restored := contracts.New(engine.New(""), dir) // the same pages: a restart
	if err := restored.UnmarshalState(checkpoint); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(restored.MarshalState(), checkpoint) {
		t.Fatal("the state does not survive a checkpoint")
	}
	want := codec.MustMarshal(rs[0])
	for name, other := range map[string]*contracts.Module{"fresh": fresh, "restored": restored} {
		got := results(t, w.block(other, 2, registryapi.RoleWorker, block...))
		if len(got) != 1 || !bytes.Equal(codec.MustMarshal(got[0]), want) {
			t.Fatalf("%s module reports %+v, want %+v", name, got, rs[0])
		}
	}
}

func isZero(g uint64) bool { return g == 0 }

// TestNotOurs: a gatekeeper, and a worker without the cluster's key, run
// nothing and send nothing; a code whose bytes do not hash to its hash is
// not kept, so its contract does not run; a failed constructor leaves the
// contract refusing commands with a status.
func TestNotOurs(t *testing.T) {
	w := newWorld(t)
	cmd := w.command(1, w.deployer, "transfer", transfer(address.Module("bob"), 1), 100_000_000)
	t.Run("gatekeeper", func(t *testing.T) {
		m := newModule(w)
		w.block(m, 1, registryapi.RoleGatekeeper, w.setup(`{"supply":5}`)...)
		if eg := w.block(m, 2, registryapi.RoleGatekeeper, cmd); len(eg) != 0 {
			t.Fatalf("a gatekeeper sent %v", eg)
		}
	})
	t.Run("other cluster", func(t *testing.T) {
		other := *w
		other.secrets.cluster = "elsewhere"
		m := newModule(w)
		other.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":5}`)...)
		if _, ok := m.ContractStatus(w.id); ok {
			t.Fatal("a contract of a cluster not held is running")
		}
		if eg := other.block(m, 2, registryapi.RoleWorker, cmd); len(eg) != 0 {
			t.Fatalf("sent %v", eg)
		}
	})
	for _, tc := range []struct {
		name  string
		init  string
		edit  func([]mq.Message)
		ctor  contractsapi.Status
		first contractsapi.Status
	}{
		{"constructor reverts", `{"supply":-1}`, nil, contractsapi.StatusReverted, contractsapi.StatusNoContract},
		{"bad code hash", `{"supply":5}`, func(msgs []mq.Message) {
			ch, _ := contractsapi.DecodeCodeChunk(msgs[1].Payload)
			ch.Chunk = bytes.Clone(ch.Chunk)
			ch.Chunk[0] ^= 1
			msgs[1].Payload = codec.MustMarshal(ch)
		}, contractsapi.StatusNoContract, contractsapi.StatusNoContract},
		{"no constructor", ``, nil, contractsapi.StatusOK, contractsapi.StatusReverted}, // no supply: insufficient balance
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModule(w)
			msgs := w.setup(tc.init)
			if tc.edit != nil {
				tc.edit(msgs)
			}
			w.block(m, 1, registryapi.RoleWorker, msgs...)
			if st, ok := m.ContractStatus(w.id); !ok || st != tc.ctor {
				t.Fatalf("constructor %s (%v), want %s", st, ok, tc.ctor)
			}
			rs := results(t, w.block(m, 2, registryapi.RoleWorker, cmd))
			if len(rs) != 1 || rs[0].Commands[0].Status != tc.first {
				t.Fatalf("results %+v, want %s", rs, tc.first)
			}
		})
	}
}

func newModule(w *world) *contracts.Module { return contracts.New(w.vm, pageDir(w.t)) }

// pageDir is a fresh directory of state pages.
func pageDir(t testing.TB) *pagefile.Dir {
	t.Helper()
	d, err := pagefile.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
