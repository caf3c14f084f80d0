package contracts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/vm/wasmbuild"
	"github.com/phala-go/phala/worker/enclave/contracts"
)

var (
	probeOnce sync.Once
	probeCode []byte
	probeErr  error
)

// buildProbe builds the VM's test contract (vm/testdata/probe), whose
// methods pay, send and query other contracts on request.
func buildProbe(t testing.TB) []byte {
	t.Helper()
	buildToken(t) // the shared build directory
	probeOnce.Do(func() {
		dir, _ := filepath.Abs("../../../vm/testdata/probe")
		probeCode, probeErr = wasmbuild.NewCache(filepath.Join(cacheDir, "build")).Code(context.Background(), dir)
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probeCode
}

// probes is a world of probe contracts deployed by w.deployer.
type probes struct {
	*world
	code []byte
	hash contractsapi.Hash
	bob  address.Address
}

func newProbes(t *testing.T) *probes {
	w := newWorld(t)
	code := buildProbe(t)
	return &probes{world: w, code: code, hash: sha256.Sum256(code), bob: address.Module("bob")}
}

// deploy is the messages that record generation 1, upload the probe and
// instantiate one probe per salt in cluster, with their ids.
func (p *probes) deploy(cluster string, salts ...string) ([]mq.Message, []contractsapi.Hash) {
	up := address.Module("uploader")
	msgs := []mq.Message{msg(keysapi.TopicMasterRecorded, keysapi.MasterRecorded{Generation: 1, PublicKey: []byte{1}, Sender: make([]byte, 32)})}
	for off := 0; off < len(p.code); off += contractsapi.DefaultChunk {
		end := min(off+contractsapi.DefaultChunk, len(p.code))
		msgs = append(msgs, msg(contractsapi.TopicCode, contractsapi.CodeChunk{Uploader: up, CodeHash: p.hash, Size: uint64(len(p.code)), Offset: uint64(off), Chunk: p.code[off:end]}))
	}
	msgs = append(msgs, msg(contractsapi.TopicCodeStored, contractsapi.Code{Hash: p.hash, Size: uint64(len(p.code)), Uploader: up, Height: 1}))
	var ids []contractsapi.Hash
	for _, salt := range salts {
		id := contractsapi.ContractID(chainID, p.deployer, p.hash, cluster, []byte(salt))
		sealed, err := envelope.Seal(chainID, envelope.Command, p.clusterP, codec.MustMarshal(contractsapi.Init{}), contractsapi.InitAAD(id))
		if err != nil {
			p.t.Fatal(err)
		}
		msgs = append(msgs, msg(contractsapi.TopicInstantiate, contractsapi.Instantiated{Contract: id, CodeHash: p.hash, Cluster: cluster, Deployer: p.deployer, InitArgs: sealed}))
		ids = append(ids, id)
	}
	return msgs, ids
}

// cmd is bob's command to contract id: method with args (JSON of v),
// sending value.
func (p *probes) cmd(seq uint64, id contractsapi.Hash, method string, v any, gas uint64, value token.Amount) mq.Message {
	p.t.Helper()
	args, _ := json.Marshal(v)
	ct, err := p.secrets.key.Contract(chainID, id[:])
	if err != nil {
		p.t.Fatal(err)
	}
	priv, err := ct.EncryptionKey(chainID)
	if err != nil {
		p.t.Fatal(err)
	}
	reply, _ := envelope.GenerateKey(envelope.Default)
	plain := codec.MustMarshal(contractsapi.CommandPlain{Method: method, Args: args, ReplyKey: reply.PublicKey().Bytes()})
	sealed, err := envelope.Seal(chainID, envelope.Command, priv.PublicKey(), plain, contractsapi.CommandAAD(id, p.bob))
	if err != nil {
		p.t.Fatal(err)
	}
	return msg(contractsapi.TopicCommand, contractsapi.CommandMessage{Seq: seq, Contract: id, Sender: p.bob, Generation: 1, Sealed: sealed, GasLimit: gas, Value: value})
}

// The probe's argument forms (vm/testdata/probe).
type pay struct {
	To     string `json:"to"`
	Amount string `json:"amount"`
}

type peer struct {
	Contract string `json:"contract"`
	Method   string `json:"method"`
	Args     any    `json:"args,omitempty"`
}

func payTo(a address.Address, n uint64) pay {
	return pay{To: hex.EncodeToString(a[:]), Amount: token.FromUint64(n).String()}
}

func to(id []byte, method string, args any) peer {
	return peer{Contract: hex.EncodeToString(id), Method: method, Args: args}
}

const bigGas = 500_000_000

func u(n uint64) token.Amount { return token.FromUint64(n) }

func receipt(t *testing.T, m *contracts.Module, seq uint64) contracts.Receipt {
	t.Helper()
	r, ok := m.Receipt(seq)
	if !ok {
		t.Fatalf("no receipt for command %d", seq)
	}
	return r.Receipt
}

func balanceOf(t *testing.T, m *contracts.Module, id contractsapi.Hash) token.Amount {
	t.Helper()
	b, ok := m.Balance(id)
	if !ok {
		t.Fatalf("contract %s not running", id)
	}
	return b
}

// TestValueAndPayouts: a command's value is the contract's only if the
// command succeeds; payouts within the balance are in the results, one
// beyond it is a coded status and the block goes on; the balance survives
// a checkpoint, and a restored module reports byte-identical results.
func TestValueAndPayouts(t *testing.T) {
	p := newProbes(t)
	dir := pageDir(t)
	m := contracts.New(p.vm, dir)
	setup, ids := p.deploy("default", "a")
	a, x := ids[0], address.Module("x")
	p.block(m, 1, registryapi.RoleWorker, setup...)
	rs := results(t, p.block(m, 2, registryapi.RoleWorker,
		p.cmd(1, a, "money", nil, bigGas, u(10)),
		p.cmd(2, a, "pay_then_fail", []pay{payTo(x, 1)}, bigGas, u(5)),
		p.cmd(3, a, "pay", []pay{payTo(x, 4)}, bigGas, token.Amount{}),
		p.cmd(4, a, "pay", []pay{payTo(x, 7)}, bigGas, u(0)),
		p.cmd(5, a, "money", nil, bigGas, u(0)),
	))
	want := []struct {
		status  contractsapi.Status
		output  string
		payouts []contractsapi.Payout
	}{
		{contractsapi.StatusOK, `{"value":"10","balance":"10"}`, nil},
		{contractsapi.StatusReverted, "refused after paying", nil},
		{contractsapi.StatusOK, `{"value":"0","balance":"6"}`, []contractsapi.Payout{{Contract: a, To: x, Amount: u(4)}}},
		{contractsapi.StatusOverdrawn, "", nil},
		{contractsapi.StatusOK, `{"value":"0","balance":"6"}`, nil},
	}
	if len(rs) != 1 || len(rs[0].Commands) != len(want) {
		t.Fatalf("results %+v", rs)
	}
	for i, w := range want {
		c, r := rs[0].Commands[i], receipt(t, m, uint64(i+1))
		if c.Status != w.status || r.Status != w.status || (w.output != "" && string(r.Output) != w.output) ||
			!equalPayouts(c.Payouts, w.payouts) || !equalPayouts(r.Payouts, w.payouts) {
			t.Errorf("command %d: %s %+v, receipt %s %q %+v; want %s %q %+v", i+1, c.Status, c.Payouts, r.Status, r.Output, r.Payouts, w.status, w.output, w.payouts)
		}
	}
	if got := balanceOf(t, m, a); got != u(6) {
		t.Fatalf("balance %s, want 6", got)
	}
	restored := contracts.New(p.vm, dir) // a restart over the same pages
	if err := restored.UnmarshalState(m.MarshalState()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Checkpointed(); err != nil { // as the runtime does after sealing the section
		t.Fatal(err)
	}
	if got := balanceOf(t, restored, a); got != u(6) {
		t.Fatalf("restored balance %s", got)
	}
	next := p.cmd(6, a, "pay", []pay{payTo(x, 6)}, bigGas, token.Amount{})
	one, two := p.block(m, 3, registryapi.RoleWorker, next), p.block(restored, 3, registryapi.RoleWorker, next)
	if len(one) != 1 || len(two) != 1 || !bytes.Equal(one[0].Payload, two[0].Payload) {
		t.Fatal("a restored module reports other results")
	}
	if r := results(t, one)[0].Commands[0]; r.Status != contractsapi.StatusOK || !balanceOf(t, m, a).IsZero() {
		t.Fatalf("paying all it holds: %+v, balance %s", r, balanceOf(t, m, a))
	}
}

func equalPayouts(a, b []contractsapi.Payout) bool {
	return bytes.Equal(codec.MustMarshal(a), codec.MustMarshal(b)) || len(a) == 0 && len(b) == 0
}

// TestMessages: messages to contracts of the cluster run after the
// command, in order, with the sender's account as caller; to another
// cluster or an unknown id they get a coded status; a message's payouts
// count when it succeeds; payouts to a contract of the cluster grow its
// balance; depth and number are bounded; gas comes from the command's
// limit; two modules fed the same blocks agree byte for byte.
func TestMessages(t *testing.T) {
	p := newProbes(t)
	m, twin := contracts.New(p.vm, pageDir(t)), contracts.New(p.vm, pageDir(t))
	setup, ids := p.deploy("default", "a", "b")
	other, far := p.deploy("other", "c")
	a, b, c, x := ids[0], ids[1], far[0], address.Module("x")
	accountB := contractsapi.ContractAccount(b)
	height := int64(0)
	run := func(msgs ...mq.Message) contractsapi.Results {
		t.Helper()
		height++
		one, two := p.block(m, height, registryapi.RoleWorker, msgs...), p.block(twin, height, registryapi.RoleWorker, msgs...)
		if len(one) != len(two) || len(one) > 0 && !bytes.Equal(one[0].Payload, two[0].Payload) {
			t.Fatalf("block %d: two modules disagree", height)
		}
		if len(one) == 0 {
			return contractsapi.Results{}
		}
		return results(t, one)[0]
	}
	run(append(setup, other[len(other)-1])...)

	type outcome struct {
		contract contractsapi.Hash
		depth    uint32
		status   contractsapi.Status
	}
	check := func(t *testing.T, seq uint64, want []outcome) contracts.Receipt {
		t.Helper()
		r := receipt(t, m, seq)
		if r.Status != contractsapi.StatusOK || len(r.Messages) != len(want) {
			t.Fatalf("receipt %s with %d messages, want ok with %d: %+v", r.Status, len(r.Messages), len(want), r.Messages)
		}
		var gas uint64
		for i, w := range want {
			o := r.Messages[i]
			if o.Contract != w.contract || o.Depth != w.depth || o.Status != w.status {
				t.Errorf("message %d: %s depth %d %s (%q), want %s depth %d %s", i, o.Contract, o.Depth, o.Status, o.Output, w.contract, w.depth, w.status)
			}
			gas += o.GasUsed
		}
		if r.GasUsed <= gas {
			t.Errorf("command gas %d does not cover its messages' %d", r.GasUsed, gas)
		}
		return r
	}

	t.Run("delivery", func(t *testing.T) {
		res := run(p.cmd(1, a, "send", []peer{
			to(b[:], "set", map[string]string{"key": "k", "value": "v"}), to(c[:], "noop", nil), to(bytes.Repeat([]byte{9}, 32), "noop", nil),
			to(b[:], "nosuch", nil), to([]byte{1, 2}, "noop", nil),
		}, bigGas, token.Amount{}))
		check(t, 1, []outcome{{b, 1, contractsapi.StatusOK}, {c, 1, contractsapi.StatusNotInCluster}, {contractsapi.Hash(bytes.Repeat([]byte{9}, 32)), 1, contractsapi.StatusNotInCluster},
			{b, 1, contractsapi.StatusReverted}, {contractsapi.Hash{}, 1, contractsapi.StatusNotInCluster}})
		if len(res.Roots) != 2 {
			t.Fatalf("roots %+v: want a's and b's", res.Roots)
		}
		st, out := m.RunQuery(p.ctx(height, registryapi.RoleWorker), b, nil, "get", []byte(`{"key":"k"}`), bigGas)
		if st != contractsapi.StatusOK || string(out.Output) != `"v"` {
			t.Fatalf("b's storage: %s %s", st, out.Output)
		}
	})
	t.Run("value between contracts", func(t *testing.T) {
		res := run(
			p.cmd(2, a, "pay", []pay{payTo(accountB, 3)}, bigGas, u(3)),
			p.cmd(3, a, "send", []peer{to(b[:], "pay", []pay{payTo(x, 2)})}, bigGas, token.Amount{}),
			p.cmd(4, a, "send", []peer{to(b[:], "pay", []pay{payTo(x, 5)})}, bigGas, token.Amount{}),
		)
		check(t, 3, []outcome{{b, 1, contractsapi.StatusOK}})
		check(t, 4, []outcome{{b, 1, contractsapi.StatusOverdrawn}})
		if !equalPayouts(res.Commands[1].Payouts, []contractsapi.Payout{{Contract: b, To: x, Amount: u(2)}}) || len(res.Commands[2].Payouts) != 0 {
			t.Fatalf("payouts %+v", res.Commands)
		}
		if ba, bb := balanceOf(t, m, a), balanceOf(t, m, b); !ba.IsZero() || bb != u(1) {
			t.Fatalf("balances a %s, b %s; want 0 and 1", ba, bb)
		}
	})
	t.Run("depth bound", func(t *testing.T) {
		var chain any = to(b[:], "noop", nil)
		for i := range contractsapi.MaxMessageDepth {
			next := a
			if i%2 == 1 {
				next = b
			}
			chain = to(next[:], "send", []any{chain})
		}
		run(p.cmd(5, a, "send", []any{chain}, bigGas, token.Amount{}))
		check(t, 5, []outcome{{b, 1, contractsapi.StatusOK}, {a, 2, contractsapi.StatusOK}, {b, 3, contractsapi.StatusOK}, {a, 4, contractsapi.StatusOK},
			{b, 5, contractsapi.StatusMessageLimit}})
	})
	t.Run("number bound", func(t *testing.T) {
		var fan []peer
		for range 16 {
			fan = append(fan, to(b[:], "noop", nil))
		}
		var first []peer
		for range 16 {
			first = append(first, to(b[:], "send", fan))
		}
		run(p.cmd(6, a, "send", first, bigGas, token.Amount{}))
		var want []outcome
		for i := range 16 + 16*16 {
			st, depth := contractsapi.StatusOK, uint32(1)
			if i >= 16 {
				depth = 2
			}
			if i >= contractsapi.MaxCommandMessages {
				st = contractsapi.StatusMessageLimit
			}
			want = append(want, outcome{b, depth, st})
		}
		check(t, 6, want)
	})
	t.Run("gas from the command's limit", func(t *testing.T) {
		send := []peer{to(b[:], "set", map[string]string{"key": "k2", "value": "v"})}
		run(p.cmd(7, a, "send", send, bigGas, token.Amount{}))
		r := check(t, 7, []outcome{{b, 1, contractsapi.StatusOK}})
		own := r.GasUsed - r.Messages[0].GasUsed
		res := run(p.cmd(8, a, "send", send, own+500, token.Amount{}))
		r = check(t, 8, []outcome{{b, 1, contractsapi.StatusOutOfGas}})
		if r.GasUsed != own+500 || r.Messages[0].GasUsed != 500 || res.Commands[0].GasUsed != own+500 {
			t.Fatalf("gas %d (message %d), want %d (500)", r.GasUsed, r.Messages[0].GasUsed, own+500)
		}
	})
}

// TestQueryOtherContracts: a query reaches the queries of its cluster's
// other contracts with its contract's account as caller; not another
// cluster's, nor itself again; balance reads the contract's balance.
func TestQueryOtherContracts(t *testing.T) {
	p := newProbes(t)
	m := contracts.New(p.vm, pageDir(t))
	setup, ids := p.deploy("default", "a", "b")
	other, far := p.deploy("other", "c")
	a, b, c := ids[0], ids[1], far[0]
	p.block(m, 1, registryapi.RoleWorker, append(setup, other[len(other)-1])...)
	p.block(m, 2, registryapi.RoleWorker, p.cmd(1, a, "money", nil, bigGas, u(42)))
	accountA := contractsapi.ContractAccount(a)
	for _, tc := range []struct {
		name string
		id   contractsapi.Hash
		args any
		out  string
		err  string
	}{
		{"caller is the contract's account", a, to(b[:], "whoami", nil), `"` + hex.EncodeToString(accountA[:]) + "@" + b.String() + `"`, ""},
		{"answer decoded", a, to(b[:], "get", map[string]string{"key": "nope"}), "", "contract query failed: no nope"},
		{"another cluster", a, to(c[:], "whoami", nil), "", "no such contract reachable"},
		{"itself again", a, to(b[:], "ask", to(a[:], "whoami", nil)), "", "too deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, _ := json.Marshal(tc.args)
			st, res := m.RunQuery(p.ctx(2, registryapi.RoleWorker), tc.id, nil, "ask", args, bigGas)
			if tc.err != "" {
				if st != contractsapi.StatusReverted || !strings.Contains(string(res.Output), tc.err) {
					t.Fatalf("%s %q, want a revert with %q", st, res.Output, tc.err)
				}
				return
			}
			if st != contractsapi.StatusOK || string(res.Output) != tc.out {
				t.Fatalf("%s %s, want %s", st, res.Output, tc.out)
			}
		})
	}
	if st, res := m.RunQuery(p.ctx(2, registryapi.RoleWorker), a, nil, "money", nil, bigGas); st != contractsapi.StatusOK || string(res.Output) != `{"value":"0","balance":"42"}` {
		t.Fatalf("money: %s %s", st, res.Output)
	}
}

// TestPayoutBound: what one command's contracts may pay in all stays
// within what the chain accepts in one command's results.
func TestPayoutBound(t *testing.T) {
	if n := vm.DefaultConfig().MaxPayouts * (1 + contractsapi.MaxCommandMessages); n > contractsapi.MaxCommandPayouts {
		t.Fatalf("a command may make %d payouts, results carry at most %d", n, contractsapi.MaxCommandPayouts)
	}
	if vm.AddressBytes != address.Length {
		t.Fatalf("the VM's payees are %d bytes, addresses %d", vm.AddressBytes, address.Length)
	}
}
