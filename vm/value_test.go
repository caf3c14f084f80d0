package vm

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm/meter"
)

type payArg struct {
	To     string `json:"to"`
	Amount string `json:"amount"`
}

type peerArg struct {
	Contract string          `json:"contract"`
	Method   string          `json:"method"`
	Args     json.RawMessage `json:"args,omitempty"`
}

func addr(b byte) []byte { return bytes.Repeat([]byte{b}, AddressBytes) }

func payTo(b byte, amount uint64) payArg {
	return payArg{To: hex.EncodeToString(addr(b)), Amount: token.FromUint64(amount).String()}
}

func TestAmountEncoding(t *testing.T) {
	for _, a := range []token.Amount{{}, token.FromUint64(1), token.PHA(1_000_000_000), token.FromUint128(^uint64(0), ^uint64(0))} {
		b := EncodeAmount(a)
		if got, ok := DecodeAmount(b); len(b) != AmountBytes || !ok || got != a {
			t.Errorf("%s: %x -> %s %v", a, b, got, ok)
		}
	}
	if b := EncodeAmount(token.FromUint64(258)); !bytes.Equal(b, append(make([]byte, 14), 1, 2)) {
		t.Errorf("258 encodes as %x, want big-endian", b)
	}
	if _, ok := DecodeAmount(make([]byte, 15)); ok {
		t.Error("15 bytes decoded")
	}
}

// TestValueAndPay: value and balance as a command and a query see them,
// payouts within and beyond the balance, and what a failed call keeps.
func TestValueAndPay(t *testing.T) {
	ctx := context.Background()
	m := loadProbe(t, newEngine(t, Config{}))
	inst := m.NewInstance(testEnv(nil))
	ten, five := token.FromUint64(10), token.FromUint64(5)
	many := make([]payArg, 17)
	for i := range many {
		many[i] = payTo(1, 0)
	}
	tests := []struct {
		name    string
		mode    Mode
		method  string
		args    any
		balance token.Amount
		out     string
		payouts []Payout
		err     error
	}{
		{"command sees value", Command, "money", nil, ten, `{"value":"5","balance":"15"}`, nil, nil},
		{"query sees no value", Query, "money", nil, ten, `{"value":"0","balance":"10"}`, nil, nil},
		{"pay within", Command, "pay", []payArg{payTo(1, 7), payTo(2, 8)}, ten, `{"value":"5","balance":"0"}`,
			[]Payout{{addr(1), token.FromUint64(7)}, {addr(2), token.FromUint64(8)}}, nil},
		{"pay beyond", Command, "pay", []payArg{payTo(1, 16)}, ten, "", nil, ErrOverdrawn},
		{"pay beyond in sum", Command, "pay", []payArg{payTo(1, 10), payTo(2, 6)}, ten, "", nil, ErrOverdrawn},
		{"pay zero", Command, "pay", []payArg{payTo(1, 0)}, token.Amount{}, `{"value":"5","balance":"5"}`, nil, nil},
		{"payee not an address", Command, "pay", []payArg{{To: "0102", Amount: "1"}}, ten, "", nil, ErrHostLimit},
		{"too many payouts", Command, "pay", many, ten, "", nil, ErrHostLimit},
		{"paid then reverted", Command, "pay_then_fail", []payArg{payTo(1, 1)}, ten, "refused after paying", nil, ErrReverted},
		{"pay in a query", Query, "pay", []payArg{payTo(1, 1)}, ten, "", nil, ErrCommandOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := inst.Call(ctx, Call{Mode: tt.mode, Input: msg(tt.method, tt.args), GasLimit: gasLimit, Value: five, Balance: tt.balance})
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if tt.out != "" && string(res.Output) != tt.out {
				t.Fatalf("output %s, want %s", res.Output, tt.out)
			}
			if len(res.Payouts) != len(tt.payouts) {
				t.Fatalf("payouts %+v, want %+v", res.Payouts, tt.payouts)
			}
			for i, p := range res.Payouts {
				if !bytes.Equal(p.To, tt.payouts[i].To) || p.Amount != tt.payouts[i].Amount {
					t.Fatalf("payout %d: %+v, want %+v", i, p, tt.payouts[i])
				}
			}
			if res.GasUsed == 0 {
				t.Fatal("no gas used")
			}
		})
	}
	if _, err := inst.Call(ctx, Call{Input: msg("money", nil), GasLimit: gasLimit, Value: five,
		Balance: token.FromUint128(^uint64(0), ^uint64(0))}); !errors.Is(err, ErrHostLimit) {
		t.Fatalf("balance plus value overflowing: %v", err)
	}
}

func TestSend(t *testing.T) {
	ctx := context.Background()
	m := loadProbe(t, newEngine(t, Config{MaxSends: 2}))
	inst := m.NewInstance(testEnv(nil))
	to := func(c string) peerArg {
		return peerArg{Contract: hex.EncodeToString([]byte(c)), Method: "m", Args: json.RawMessage(`{"a":1}`)}
	}
	res, err := inst.Call(ctx, Call{Input: msg("send", []peerArg{to("c2"), to("c3")}), GasLimit: gasLimit})
	if err != nil || len(res.Sends) != 2 || string(res.Sends[0].Contract) != "c2" || string(res.Sends[1].Contract) != "c3" ||
		string(res.Sends[0].Input) != "m\x00{\"a\":1}" {
		t.Fatalf("sends %+v: %v", res.Sends, err)
	}
	if res, err := inst.Call(ctx, Call{Input: msg("send", []peerArg{to("c2"), to("c3"), to("c4")}), GasLimit: gasLimit}); !errors.Is(err, ErrHostLimit) || len(res.Sends) != 0 {
		t.Fatalf("over MaxSends: %v %+v", err, res.Sends)
	}
	if res, err := inst.Call(ctx, Call{Input: msg("send", []peerArg{{Method: "m"}}), GasLimit: gasLimit}); !errors.Is(err, ErrHostLimit) || len(res.Sends) != 0 {
		t.Fatalf("no contract: %v %+v", err, res.Sends)
	}
	if _, err := inst.Call(ctx, Call{Mode: Query, Input: msg("send", to("c2")), GasLimit: gasLimit}); !errors.Is(err, ErrCommandOnly) {
		t.Fatalf("send in a query: %v", err)
	}
}

// peers serves query_contract from a set of instances, refusing a
// contract already in the chain of calls, as the enclave does.
type peers struct {
	insts map[string]*Instance
	stack []string
	calls int
}

func (p *peers) QueryPeer(ctx context.Context, contract, input []byte, gas uint64, depth int) (Result, error) {
	id := string(contract)
	inst := p.insts[id]
	if inst == nil {
		return Result{}, ErrUnknownContract.Wrapf("%q", id)
	}
	if slices.Contains(p.stack, id) {
		return Result{}, ErrCallDepth.Wrapf("%q is already called", id)
	}
	p.stack = append(p.stack, id)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	p.calls++
	return inst.Call(ctx, Call{Mode: Query, Caller: []byte("peer"), Input: input, GasLimit: gas, Depth: depth, Peers: p})
}

func TestQueryContract(t *testing.T) {
	ctx := context.Background()
	m := loadProbe(t, newEngine(t, Config{MaxCallDepth: 2}))
	p := &peers{insts: map[string]*Instance{}}
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		env := testEnv(nil)
		env.ContractID = []byte(id)
		p.insts[id] = m.NewInstance(env)
	}
	ask := func(c, method string, args any) peerArg {
		raw, _ := json.Marshal(args)
		return peerArg{Contract: hex.EncodeToString([]byte(c)), Method: method, Args: raw}
	}
	call := func(mode Mode, a peerArg, gas uint64) (Result, error) {
		p.stack = []string{"c1"}
		return p.insts["c1"].Call(ctx, Call{Mode: mode, Input: msg("ask", a), GasLimit: gas, Peers: p})
	}
	whoami := ask("c2", "whoami", nil)
	direct, err := p.insts["c2"].Call(ctx, Call{Mode: Query, Caller: []byte("peer"), Input: msg("whoami", nil), GasLimit: gasLimit})
	if err != nil {
		t.Fatal(err)
	}
	res, err := call(Query, whoami, gasLimit)
	if err != nil || string(res.Output) != `"70656572@6332"` || res.GasUsed < direct.GasUsed+10_000 {
		t.Fatalf("ask: %s %v, gas %d (the callee alone %d)", res.Output, err, res.GasUsed, direct.GasUsed)
	}
	tests := []struct {
		name string
		mode Mode
		arg  peerArg
		err  string
	}{
		{"unknown contract", Query, ask("c9", "whoami", nil), "no such contract reachable"},
		{"reentrant", Query, ask("c1", "whoami", nil), "too deep"},
		{"callee reverts", Query, ask("c2", "get", kv{Key: "missing"}), "contract query failed: no missing"},
		{"in a command", Command, whoami, "query_contract is query-only"},
		{"beyond the depth bound", Query, ask("c2", "ask", ask("c3", "ask", ask("c4", "whoami", nil))), "too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(tt.mode, tt.arg, gasLimit)
			if !errors.Is(err, ErrReverted) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("got %v, want a revert with %q", err, tt.err)
			}
		})
	}
	t.Run("two deep", func(t *testing.T) {
		if res, err := call(Query, ask("c2", "ask", ask("c3", "whoami", nil)), gasLimit); err != nil || string(res.Output) != `"70656572@6333"` {
			t.Fatalf("%s %v", res.Output, err)
		}
	})
	t.Run("the callee's gas is the caller's", func(t *testing.T) {
		_, err := call(Query, whoami, direct.GasUsed)
		if !errors.Is(err, meter.ErrOutOfGas) {
			t.Fatalf("%v, want out of gas", err)
		}
	})
}
