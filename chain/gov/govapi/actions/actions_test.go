package actions

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// TestRoundTrip: every action kind goes JSON → CBOR → JSON → CBOR to the
// same bytes, and the CBOR decodes as the method's own body type.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		method, body string
		want         any // the body, as the chain decodes it
	}{
		{"compute.set_params", `{"changes": [{"path": "answer_window", "value": 20000000000}]}`,
			module.ParamChange{Changes: []module.ParamValue{{Path: "answer_window", Value: json.RawMessage(`20000000000`)}}}},
		{"bank.set_params", `{"changes": [{"path": "base_fee", "value": "1000"}, {"path": "byte_fee", "value": "2"}]}`, nil},
		{"registry.set_params", `{"changes": [{"path": "reattest_seconds", "value": 3600}]}`, nil},
		{"contracts.set_params", `{"changes": [{"path": "x", "value": {"a": [1, 2]}}]}`,
			module.ParamChange{Changes: []module.ParamValue{{Path: "x", Value: json.RawMessage(`{"a":[1,2]}`)}}}},
		{"pools.set_params", `{"changes": [{"path": "min_delegation", "value": "1"}]}`, nil},
		{"gov.set_params", `{"changes": [{"path": "voting_period", "value": 60000000000}]}`, nil},
		{"registry.set_policy", `{"policy": {"sim": ["` + strings.Repeat("01", 32) + `"], "allow_sim": true, "min_tcb_eval_data_number": 17}}`, nil},
		{"registry.set_gatekeeper", `{"grant": {"identity_key": "` + exampleKey + `"}, "allowed": true}`,
			registryapi.SetGatekeeper{Grant: registryapi.Grant{IdentityKey: bytes.Repeat([]byte{0xab}, 32)}, Allowed: true}},
		{"registry.set_gatekeeper", `{"grant": {"operator": "` + exampleAddress + `"}}`, nil},
		{"keys.create_cluster", `{"id": "eu-1"}`, keysapi.CreateCluster{ID: "eu-1"}},
		{"keys.assign_worker", `{"cluster": "eu-1", "worker": "0x` + exampleKey + `"}`,
			keysapi.AssignWorker{Cluster: "eu-1", Worker: bytes.Repeat([]byte{0xab}, 32)}},
		{"keys.rotate", `{}`, keysapi.Rotate{}},
		{"keys.rotate", ``, keysapi.Rotate{}},
		{"gov.spend_treasury", `{"to": "` + exampleAddress + `", "amount": "2500.5"}`, nil},
		{"gov.spend_treasury", `{"to": "` + exampleAddress + `", "amount": "1500u"}`, nil},
		{"gov.schedule_upgrade", `{"name": "v2", "height": 100, "info": "see the release notes"}`,
			govapi.Plan{Name: "v2", Height: 100, Info: "see the release notes"}},
		{"gov.cancel_upgrade", `{"name": "v2"}`, govapi.CancelUpgrade{Name: "v2"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			covered[c.method] = true
			enc, err := Encode(Action{Method: c.method, Body: json.RawMessage(c.body)})
			if err != nil {
				t.Fatal(err)
			}
			if c.want != nil && !bytes.Equal(enc.Body, codec.MustMarshal(c.want)) {
				t.Fatalf("body %x, want %x", enc.Body, codec.MustMarshal(c.want))
			}
			shown, err := Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Encode(shown)
			if err != nil {
				t.Fatalf("re-encoding %s: %v", shown.Body, err)
			}
			if !bytes.Equal(again.Body, enc.Body) {
				t.Fatalf("round trip changed the body: %s", shown.Body)
			}
		})
	}
	for _, m := range Methods() {
		if !covered[m] {
			t.Errorf("method %s has no round-trip case", m)
		}
	}
}

// TestShownForms: the JSON shown for a stored body uses hex keys and PHA.
func TestShownForms(t *testing.T) {
	cases := []struct {
		method string
		body   any
		want   string
	}{
		{"keys.assign_worker", keysapi.AssignWorker{Cluster: "c", Worker: bytes.Repeat([]byte{1}, 32)}, `{"cluster":"c","worker":"` + strings.Repeat("01", 32) + `"}`},
		{"gov.spend_treasury", govapi.Spend{To: mustAddress(t), Amount: token.PHA(3)}, `{"to":"` + exampleAddress + `","amount":"3"}`},
		{"registry.set_gatekeeper", registryapi.SetGatekeeper{Grant: registryapi.Grant{IdentityKey: bytes.Repeat([]byte{2}, 32)}}, `{"grant":{"identity_key":"` + strings.Repeat("02", 32) + `"},"allowed":false}`},
	}
	for _, c := range cases {
		got, err := Decode(govapi.Action{Method: c.method, Body: codec.MustMarshal(c.body)})
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Body) != c.want {
			t.Errorf("%s shown as %s, want %s", c.method, got.Body, c.want)
		}
	}
}

func mustAddress(t *testing.T) address.Address {
	t.Helper()
	a, err := address.Parse(exampleAddress)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRefusals: bad actions are refused locally with messages that say
// what and where.
func TestRefusals(t *testing.T) {
	cases := []struct {
		name, method, body string
		want               []string // substrings of the error
	}{
		{"unknown method", "registry.set_admin", `{}`, []string{`unknown method "registry.set_admin"`, "gov.spend_treasury", "keys.rotate", "compute.set_params"}},
		{"not an authority method", "bank.transfer", `{}`, []string{"unknown method", "a proposal may carry"}},
		{"unknown top field", "gov.spend_treasury", `{"to": "` + exampleAddress + `", "amount": "1", "memo": "x"}`, []string{`unknown field "memo"`}},
		{"unknown nested field", "registry.set_policy", `{"policy": {"sgx": [{"mr_enclav": "00"}]}}`, []string{`unknown field "policy.sgx[0].mr_enclav"`}},
		{"unknown field in a change", "pools.set_params", `{"changes": [{"path": "a", "value": 1, "unit": "s"}]}`, []string{`unknown field "changes[0].unit"`}},
		{"bad amount", "gov.spend_treasury", `{"to": "` + exampleAddress + `", "amount": "ten"}`, []string{"amount", `invalid amount "ten"`}},
		{"zero amount", "gov.spend_treasury", `{"to": "` + exampleAddress + `", "amount": "0"}`, []string{"amount: zero"}},
		{"too many decimals", "gov.spend_treasury", `{"to": "` + exampleAddress + `", "amount": "0.0000000000001"}`, []string{"decimals"}},
		{"bad address", "gov.spend_treasury", `{"to": "pha1nope", "amount": "1"}`, []string{"gov.spend_treasury"}},
		{"no recipient", "gov.spend_treasury", `{"amount": "1"}`, []string{"to: missing"}},
		{"short worker key", "keys.assign_worker", `{"cluster": "c", "worker": "abcd"}`, []string{"worker: 2 bytes"}},
		{"bad cluster id", "keys.create_cluster", `{"id": "a b"}`, []string{"only letters"}},
		{"grant of both", "registry.set_gatekeeper", `{"grant": {"identity_key": "` + exampleKey + `", "operator": "` + exampleAddress + `"}}`, []string{"exactly one"}},
		{"bad policy", "registry.set_policy", `{"policy": {"accepted_tcb_statuses": ["Revoked"]}}`, []string{"Revoked"}},
		{"no change", "compute.set_params", `{"changes": []}`, []string{"changes: none"}},
		{"change without value", "compute.set_params", `{"changes": [{"path": "answer_window"}]}`, []string{"changes[0].value: missing"}},
		{"plan without height", "gov.schedule_upgrade", `{"name": "v2"}`, []string{"height"}},
		{"wrong type", "gov.schedule_upgrade", `{"name": "v2", "height": "soon"}`, []string{"height"}},
		{"two values", "keys.rotate", `{} {}`, []string{"data after the value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Encode(Action{Method: c.method, Body: json.RawMessage(c.body)})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestDecodeRefusesBadBodies: a stored body that is not the canonical
// encoding of its method's type is an error, not a guess.
func TestDecodeRefusesBadBodies(t *testing.T) {
	cases := []govapi.Action{
		{Method: "keys.create_cluster", Body: []byte{0xff}},
		{Method: "keys.create_cluster", Body: codec.MustMarshal(govapi.Plan{Name: "x"})},
		{Method: "gov.spend_treasury", Body: nil},
		{Method: "no.such", Body: codec.MustMarshal(keysapi.Rotate{})},
	}
	for _, a := range cases {
		if got, err := Decode(a); err == nil {
			t.Errorf("%s %x shown as %s", a.Method, a.Body, got.Body)
		}
	}
}

// TestFile: proposal files, with the flags' overrides left to the CLI.
func TestFile(t *testing.T) {
	good := `{"title": "t", "description": "d", "deposit": "10.5", "actions": [{"method": "keys.rotate", "body": {}}]}`
	f, err := ParseFile([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Propose()
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "t" || p.Deposit.String() != "10500000000000" || len(p.Actions) != 1 || p.Actions[0].Method != "keys.rotate" {
		t.Fatalf("proposal %+v", p)
	}
	bad := []struct {
		name, file string
		want       string
	}{
		{"unknown field", `{"title": "t", "deposit": "1", "actions": [], "expedited": true}`, `unknown field "expedited"`},
		{"unknown field in an action", `{"title": "t", "deposit": "1", "actions": [{"method": "keys.rotate", "body": {}, "gas": 1}]}`, `unknown field "actions[0].gas"`},
		{"bad deposit", `{"title": "t", "deposit": "lots"}`, `deposit: invalid amount "lots"`},
		{"no deposit", `{"title": "t"}`, "deposit: missing"},
		{"no title", `{"deposit": "1"}`, "title: missing"},
		{"long title", `{"title": "` + strings.Repeat("x", govapi.MaxTitle+1) + `", "deposit": "1"}`, "title: 141 bytes"},
		{"bad second action", `{"title": "t", "deposit": "1", "actions": [{"method": "keys.rotate"}, {"method": "keys.create_cluster", "body": {"name": "x"}}]}`, `actions[1]: keys.create_cluster: unknown field "name"`},
		{"not JSON", `title: t`, "proposal file"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseFile([]byte(c.file))
			if err == nil {
				_, err = f.Propose()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestTemplatesParse: every template is a proposal file that encodes, and
// together they show every kind the brief lists.
func TestTemplatesParse(t *testing.T) {
	if got := strings.Join(TemplateKinds(), " "); got != "assign-worker cluster gatekeeper param-change policy rotate-master-key treasury-spend upgrade" {
		t.Fatalf("template kinds %s", got)
	}
	for _, k := range TemplateKinds() {
		raw, err := Template(k)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFile(raw)
		if err != nil {
			t.Fatalf("%s: %v\n%s", k, err, raw)
		}
		if _, err := f.Propose(); err != nil {
			t.Fatalf("%s: %v\n%s", k, err, raw)
		}
	}
	if _, err := Template("spend"); err == nil || !strings.Contains(err.Error(), "treasury-spend") {
		t.Fatalf("unknown template: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range Methods() {
		f.Add(m, []byte{0x80})
	}
	f.Add("gov.spend_treasury", codec.MustMarshal(govapi.Spend{Amount: token.PHA(1)}))
	f.Fuzz(func(t *testing.T, method string, body []byte) {
		shown, err := Decode(govapi.Action{Method: method, Body: body})
		if err != nil {
			return
		}
		if !json.Valid(shown.Body) {
			t.Fatalf("shown body is not JSON: %q", shown.Body)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	for _, k := range TemplateKinds() {
		raw, _ := Template(k)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile(data)
		if err != nil {
			return
		}
		p, err := file.Propose()
		if err != nil {
			return
		}
		if _, err := codec.Marshal(p); err != nil {
			t.Fatalf("an accepted proposal does not encode: %v", err)
		}
	})
}
