package actions

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
)

// template is an example proposal of one action kind, so a new user need
// not guess the shape of a body.
type template struct {
	title, description, method, body string
}

// exampleKey and exampleAddress stand for a worker's or gatekeeper's
// identity key and a recipient: replace them.
var (
	exampleKey     = strings.Repeat("ab", ed25519.PublicKeySize)
	exampleAddress = address.FromPublicKey(make(ed25519.PublicKey, ed25519.PublicKeySize)).String()
)

var templates = map[string]template{
	"param-change": {
		"Raise compute's answer window to 20 s",
		"Workers on slow links miss challenges; give them twice the time. Values are written as `phala query gov params` prints them (durations in nanoseconds, or with phala tx gov propose a string such as \"20s\").",
		SetParamsMethod(computeapi.Name),
		`{"changes": [{"path": "answer_window", "value": "20s"}]}`,
	},
	"policy": {
		"Attestation policy: require an up-to-date TCB",
		"Replaces the whole policy (read the current one with `phala query policy`); nodes that no longer pass are deactivated at the end of the block that runs it.",
		registryapi.MethodSetPolicy,
		`{"policy": {"sgx": [{"mr_enclave": "` + exampleKey + `"}], "accepted_tcb_statuses": ["UpToDate"], "min_tcb_eval_data_number": 17}}`,
	},
	"gatekeeper": {
		"Allow a new gatekeeper",
		"Names the gatekeeper by identity_key (hex) or by operator (address), not both; allowed false removes it.",
		registryapi.MethodSetGatekeeper,
		`{"grant": {"identity_key": "` + exampleKey + `"}, "allowed": true}`,
	},
	"cluster": {
		"Create cluster eu-1",
		"A cluster id is 1..64 letters, digits, '-' or '_'.",
		keysapi.MethodCreateCluster,
		`{"id": "eu-1"}`,
	},
	"assign-worker": {
		"Assign a worker to cluster eu-1",
		"The worker (its identity key in hex) must be registered; gatekeepers then hand it the cluster key.",
		keysapi.MethodAssignWorker,
		`{"cluster": "eu-1", "worker": "` + exampleKey + `"}`,
	},
	"rotate-master-key": {
		"Rotate the master key",
		"The designated gatekeeper generates the next master key generation; contract keys of the new generation follow.",
		keysapi.MethodRotate,
		`{}`,
	},
	"treasury-spend": {
		"Fund the explorer's hosting for a year",
		"Pays amount (PHA) from the treasury to the address; more than the treasury holds fails when proposed.",
		govapi.MethodSpendTreasury,
		`{"to": "` + exampleAddress + `", "amount": "2500"}`,
	},
	"upgrade": {
		"Upgrade to v2 at height 1,000,000",
		"Nodes announce the plan and stop cleanly before the height until they run a release that knows v2.",
		govapi.MethodUpgrade,
		`{"name": "v2", "height": 1000000, "info": "https://example.org/releases/v2"}`,
	},
}

// TemplateKinds lists the kinds Template knows, sorted.
func TemplateKinds() []string {
	kinds := make([]string, 0, len(templates))
	for k := range templates {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// Template is an example proposal file of one kind, indented JSON.
func Template(kindName string) ([]byte, error) {
	t, ok := templates[kindName]
	if !ok {
		return nil, fmt.Errorf("unknown template %q (one of: %s)", kindName, strings.Join(TemplateKinds(), ", "))
	}
	f := File{
		Title:       t.title,
		Description: t.description,
		Deposit:     PHA(govapi.DefaultParams().MinDeposit),
		Actions:     []Action{{Method: t.method, Body: json.RawMessage(t.body)}},
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
