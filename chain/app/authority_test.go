package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// authorityCall is one privileged transaction, valid but for its sender,
// and the refusal its module gives a sender without the authority.
type authorityCall struct {
	method string
	body   func(t *testing.T) any
	want   error
}

func authorityCalls() []authorityCall {
	change := func(path string, v any) func(t *testing.T) any {
		return func(t *testing.T) any { return apptest.Change(t, path, v) }
	}
	fixed := func(b any) func(*testing.T) any { return func(*testing.T) any { return b } }
	return []authorityCall{
		{registryapi.MethodSetGatekeeper, fixed(registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: apptest.Bob.Addr}, Allowed: true}), registryapi.ErrUnauthorized},
		{registryapi.MethodSetPolicy, fixed(registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true}}), registryapi.ErrUnauthorized},
		{registryapi.MethodSetParams, change("reattest_seconds", 3600), registryapi.ErrUnauthorized},
		{keysapi.MethodCreateCluster, fixed(keysapi.CreateCluster{ID: "c1"}), keysapi.ErrUnauthorized},
		{keysapi.MethodAssignWorker, fixed(keysapi.AssignWorker{Cluster: "c1", Worker: make([]byte, 32)}), keysapi.ErrUnauthorized},
		{keysapi.MethodRotate, fixed(keysapi.Rotate{}), keysapi.ErrUnauthorized},
		{bankapi.MethodSetParams, change("byte_fee", token.FromUint64(2_000_000)), bankapi.ErrUnauthorized},
		{contractsapi.MethodSetParams, change("gas_price", token.FromUint64(2_000)), contractsapi.ErrUnauthorized},
		{computeapi.MethodSetParams, change("answer_window", 30*time.Second), computeapi.ErrUnauthorized},
		{poolsapi.MethodSetParams, change("max_workers", 100), poolsapi.ErrUnauthorized},
	}
}

// TestAuthorityMethodsMarked: every privileged method is an Authority
// method (so a proposal may carry it), and every module with governable
// params has its set_params.
func TestAuthorityMethodsMarked(t *testing.T) {
	marked := map[string]bool{}
	for _, m := range app.Modules() {
		for _, method := range m.Methods() {
			marked[method.Name] = method.Authority
		}
		if g, ok := m.(module.Governed); ok && len(g.GovernableParams()) > 0 && !marked[m.Name()+".set_params"] {
			t.Errorf("%s has governable params but no Authority method %s.set_params", m.Name(), m.Name())
		}
	}
	for _, c := range authorityCalls() {
		if !marked[c.method] {
			t.Errorf("%s is not marked Authority", c.method)
		}
	}
	for _, open := range []string{bankapi.MethodTransfer, registryapi.MethodRegister, poolsapi.MethodCreate, computeapi.MethodStart} {
		if marked[open] {
			t.Errorf("%s is marked Authority: anyone may send it", open)
		}
	}
}

// TestAuthorityRefusals: a key without the authority is refused by every
// privileged method with its module's code, paying its fee and changing
// nothing else; on a chain without an unsafe dev admin that is every key,
// the former admin's too, and the refusal says a proposal is the way.
func TestAuthorityRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []apptest.Option
		senders []apptest.Account
		says    string
	}{
		{"development chain", nil, []apptest.Account{apptest.Bob, apptest.Carol}, "unsafe dev admin " + apptest.Alice.Addr.String()},
		{"no dev admin", []apptest.Option{apptest.WithGenesis(apptest.NoDevAdmin)}, []apptest.Account{apptest.Alice, apptest.Bob}, "phala tx gov propose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := apptest.New(t, tc.opts...)
			c.Block()
			for _, from := range tc.senders {
				for _, call := range authorityCalls() {
					_, r := c.MustRefuseCharged(c.Tx(from, call.method, call.body(t)), call.want)
					if !strings.Contains(r.Log, tc.says) {
						t.Fatalf("%s from %s: %q does not say %q", call.method, from.Addr, r.Log, tc.says)
					}
				}
			}
		})
	}
}

// TestDevAdminActs: on a development chain the unsafe dev admin sends
// the privileged methods directly.
func TestDevAdminActs(t *testing.T) {
	c := apptest.New(t)
	c.Block()
	for _, call := range authorityCalls() {
		if call.method == keysapi.MethodAssignWorker || call.method == keysapi.MethodRotate {
			continue // need a worker, a recorded master key: the keys module's own tests
		}
		c.MustSucceed(c.Tx(apptest.Alice, call.method, call.body(t)))
	}
}

// paramsCase is one module's set_params: a change that must take effect
// and changes that must be refused with the module's params code.
type paramsCase struct {
	method, query string
	read          func(c *apptest.Chain) any // the params, as the query answers
	good          module.ParamChange
	want          map[string]string // path → JSON after the good change
	bad           map[string]module.ParamChange
	errParams     error
}

func paramsCases(t *testing.T) []paramsCase {
	ch := func(pv ...any) module.ParamChange { return apptest.Change(t, pv...) }
	return []paramsCase{
		{
			method: bankapi.MethodSetParams, read: readAs[bankapi.Params](bankapi.QueryParams),
			good: ch("base_fee", token.FromUint64(2_000_000_000), "min_balance", token.PHA(1)),
			want: map[string]string{"base_fee": `"2000000000"`, "min_balance": `"1000000000000"`, "byte_fee": `"1000000"`},
			bad: map[string]module.ParamChange{
				"fee above the bound": ch("base_fee", token.PHA(1_001)),
				"byte fee too high":   ch("byte_fee", token.PHA(2)),
				"no minimum balance":  ch("min_balance", token.Amount{}),
				"a number, no string": ch("base_fee", 5),
			},
			errParams: bankapi.ErrParams,
		},
		{
			method: registryapi.MethodSetParams, read: readAs[registryapi.Params](registryapi.QueryParams),
			good: ch("reattest_seconds", 3600),
			want: map[string]string{"reattest_seconds": `3600`, "max_anchor_age": `100`},
			bad: map[string]module.ParamChange{
				"reattest zero":         ch("reattest_seconds", 0),
				"reattest negative":     ch("reattest_seconds", -5),
				"reattest beyond bound": ch("reattest_seconds", registryapi.MaxReattestSeconds+1),
				"anchor age zero":       ch("max_anchor_age", 0),
				"anchor beyond history": ch("max_anchor_age", registryapi.MaxMaxAnchorAge+1),
			},
			errParams: registryapi.ErrParams,
		},
		{
			method: contractsapi.MethodSetParams, read: readAs[contractsapi.Params](contractsapi.QueryParams),
			good: ch("gas_price", token.FromUint64(2_000), "results_timeout_blocks", 100),
			want: map[string]string{"gas_price": `"2000"`, "results_timeout_blocks": `100`, "max_code_size": `16777216`},
			bad: map[string]module.ParamChange{
				"code size zero":        ch("max_code_size", 0),
				"code size huge":        ch("max_code_size", contractsapi.MaxMaxCodeSize+1),
				"sealed size huge":      ch("max_sealed_size", contractsapi.MaxMaxSealedSize+1),
				"timeout zero":          ch("upload_timeout_blocks", 0),
				"reserve overflows":     ch("gas_price", json.RawMessage(`"300000000000000000000000000000"`)),
				"gas limit zero":        ch("max_gas_limit", 0),
				"negative gas limit":    ch("max_gas_limit", -1),
				"fraction of a timeout": ch("results_timeout_blocks", 1.5),
			},
			errParams: contractsapi.ErrParams,
		},
		{
			method: poolsapi.MethodSetParams, read: readAs[poolsapi.Params](poolsapi.QueryParams),
			good: ch("max_workers", 100, "withdraw_grace", time.Hour),
			want: map[string]string{"max_workers": `100`, "withdraw_grace": `3600000000000`, "max_serve": `32`},
			bad: map[string]module.ParamChange{
				"no workers":       ch("max_workers", 0),
				"grace too short":  ch("withdraw_grace", time.Second),
				"serve nothing":    ch("max_serve", 0),
				"no delegation":    ch("min_delegation", token.Amount{}),
				"the same, twice":  ch("max_serve", 2, "max_serve", 3),
				"too many workers": ch("max_workers", 10_001),
			},
			errParams: poolsapi.ErrParams,
		},
	}
}

func readAs[T any](path string) func(c *apptest.Chain) any {
	return func(c *apptest.Chain) any {
		var p T
		if err := c.Query(path, nil, &p); err != nil {
			c.T.Fatalf("%s: %v", path, err)
		}
		return p
	}
}

// paramsJSON is a module's params as path → JSON leaves (top level).
func paramsJSON(t *testing.T, p any) map[string]string {
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// TestSetParams: each module's set_params changes what it names, emits
// its event and nothing else; an unknown path, an out-of-range or
// ill-typed value is refused with the module's params code, changing
// nothing but the fee.
func TestSetParams(t *testing.T) {
	for _, pc := range paramsCases(t) {
		t.Run(pc.method, func(t *testing.T) {
			c := apptest.New(t)
			c.Block()
			before := paramsJSON(t, pc.read(c))
			refusals := map[string]module.ParamChange{"unknown path": apptest.Change(t, "nonsense", 1), "no change": {}}
			for name, bad := range pc.bad {
				refusals[name] = bad
			}
			for name, bad := range refusals {
				t.Logf("refusal: %s", name) // c fails the test, not a subtest
				c.MustRefuseCharged(c.Tx(apptest.Alice, pc.method, bad), pc.errParams)
			}
			if got := paramsJSON(t, pc.read(c)); !equalMaps(got, before) {
				t.Fatalf("refusals changed the params: %v, was %v", got, before)
			}
			r := c.Block(c.Tx(apptest.Alice, pc.method, pc.good)).TxResults[0]
			if err := apptest.TxErr(r); err != nil {
				t.Fatal(err)
			}
			after := paramsJSON(t, pc.read(c))
			for path, want := range pc.want {
				if after[path] != want {
					t.Errorf("%s = %s after the change, want %s", path, after[path], want)
				}
			}
			var changed []string
			for path, v := range after {
				if v != before[path] {
					changed = append(changed, path)
				}
			}
			if len(changed) != len(pc.good.Changes) {
				t.Errorf("changed %v, want only %v", changed, pc.good.Changes)
			}
			if !eventNames(r, "changed", pc.good.Changes[0].Path) {
				t.Errorf("no event naming %s: %v", pc.good.Changes[0].Path, r.Events)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// eventNames reports whether an event of r has attribute key holding
// substr.
func eventNames(r *abci.ExecTxResult, key, substr string) bool {
	for _, e := range r.Events {
		for _, a := range e.Attributes {
			if a.Key == key && strings.Contains(a.Value, substr) {
				return true
			}
		}
	}
	return false
}

// withFee is c.Tx paying fee.
func withFee(t *testing.T, c *apptest.Chain, from apptest.Account, fee token.Amount, method string, body any) []byte {
	env, err := tx.New(apptest.ChainID, from.PublicKey(), c.Account(from.Addr).Nonce, fee, 10_000_000, method, body)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := env.Sign(from.Key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestParamsTakeEffect: a new fee binds the next transaction, a new
// re-attestation period the next registration.
func TestParamsTakeEffect(t *testing.T) {
	c := apptest.New(t)
	c.Block()
	c.MustSucceed(c.Tx(apptest.Alice, bankapi.MethodSetParams, apptest.Change(t, "base_fee", token.PHA(2))))
	c.MustRefuse(c.Tx(apptest.Bob, bankapi.MethodTransfer, bankapi.Transfer{To: apptest.Carol.Addr, Amount: token.PHA(1)}), tx.ErrFeeTooLow)
	c.MustSucceed(withFee(t, c, apptest.Alice, token.PHA(3), bankapi.MethodSetParams, apptest.Change(t, "base_fee", token.FromUint64(1_000_000_000))))
	c.MustSucceed(c.Tx(apptest.Bob, bankapi.MethodTransfer, bankapi.Transfer{To: apptest.Carol.Addr, Amount: token.PHA(1)}))

	c.MustSucceed(c.Tx(apptest.Alice, registryapi.MethodSetParams, apptest.Change(t, "reattest_seconds", 3600)))
	n := c.Node(c.Register(apptest.Bob, registryapi.RoleWorker))
	if n.ExpiresAt-n.AttestedAt != 3600 {
		t.Fatalf("registered for %d s, want the new 3600", n.ExpiresAt-n.AttestedAt)
	}
}

// TestProposalChecksModuleParams: a proposal's set_params actions of the
// modules are checked when proposed, with governance as their sender: a
// fixed or out-of-range param refuses the proposal, saying why; a sound
// one is accepted.
func TestProposalChecksModuleParams(t *testing.T) {
	c := apptest.New(t, apptest.WithGenesis(apptest.NoDevAdmin))
	c.Block()
	action := func(method string, change module.ParamChange) govapi.Action {
		return govapi.Action{Method: method, Body: codec.MustMarshal(change)}
	}
	propose := func(a govapi.Action) []byte {
		return c.Tx(apptest.Alice, govapi.MethodPropose, govapi.Propose{Title: "params", Actions: []govapi.Action{a}, Deposit: govapi.DefaultParams().MinInitialDeposit})
	}
	for _, bad := range []struct {
		action govapi.Action
		says   string
	}{
		{action(computeapi.MethodSetParams, apptest.Change(t, "settle_every", time.Minute)), "renumber"},
		{action(registryapi.MethodSetParams, apptest.Change(t, "max_anchor_age", 0)), registryapi.ErrParams.Error()},
		{action(bankapi.MethodSetParams, apptest.Change(t, "nonsense", 1)), bankapi.ErrParams.Error()},
	} {
		_, r := c.MustRefuseCharged(propose(bad.action), govapi.ErrBadAction)
		if !strings.Contains(r.Log, bad.says) {
			t.Fatalf("refusal %q does not say %q", r.Log, bad.says)
		}
	}
	c.MustSucceed(propose(action(poolsapi.MethodSetParams, apptest.Change(t, "max_workers", 50))))
}
