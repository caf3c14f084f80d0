package actions

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// GovernedModules are the modules with params governance may change, each
// through "<module>.set_params" with a module.ParamChange body.
var GovernedModules = []string{bankapi.Name, registryapi.Name, contractsapi.Name, poolsapi.Name, computeapi.Name, govapi.Name}

// SetParamsMethod is a module's param change method.
func SetParamsMethod(moduleName string) string { return moduleName + ".set_params" }

// table is every Authority method and the JSON form of its body. Bodies
// whose Go type has a readable JSON form use it; the others get a form
// with keys in hex and amounts in PHA, as the CLI's flags take them.
func table() []kind {
	kinds := []kind{
		form(registryapi.MethodSetPolicy, "replace the attestation policy (nodes that no longer pass are deactivated)",
			func(f policyForm) (registryapi.SetPolicy, error) {
				return registryapi.SetPolicy{Policy: f.Policy}, f.Policy.Validate()
			},
			func(b registryapi.SetPolicy) policyForm { return policyForm{Policy: b.Policy} }),
		form(registryapi.MethodSetGatekeeper, "allow or disallow a gatekeeper, by identity key or operator",
			func(f gatekeeperForm) (registryapi.SetGatekeeper, error) {
				g := registryapi.Grant{IdentityKey: f.Grant.IdentityKey, Operator: f.Grant.Operator}
				return registryapi.SetGatekeeper{Grant: g, Allowed: f.Allowed}, g.Validate()
			},
			func(b registryapi.SetGatekeeper) gatekeeperForm {
				return gatekeeperForm{Grant: grantForm{IdentityKey: b.Grant.IdentityKey, Operator: b.Grant.Operator}, Allowed: b.Allowed}
			}),
		form(keysapi.MethodCreateCluster, "create a cluster of workers",
			func(f clusterForm) (keysapi.CreateCluster, error) {
				return keysapi.CreateCluster{ID: f.ID}, keysapi.CheckClusterID(f.ID)
			},
			func(b keysapi.CreateCluster) clusterForm { return clusterForm{ID: b.ID} }),
		form(keysapi.MethodAssignWorker, "assign a registered worker to a cluster",
			func(f assignForm) (keysapi.AssignWorker, error) {
				if len(f.Worker) != ed25519.PublicKeySize {
					return keysapi.AssignWorker{}, fmt.Errorf("worker: %d bytes, want a %d-byte identity key in hex", len(f.Worker), ed25519.PublicKeySize)
				}
				return keysapi.AssignWorker{Cluster: f.Cluster, Worker: ed25519.PublicKey(f.Worker)}, keysapi.CheckClusterID(f.Cluster)
			},
			func(b keysapi.AssignWorker) assignForm {
				return assignForm{Cluster: b.Cluster, Worker: attest.Hex(b.Worker)}
			}),
		form(keysapi.MethodRotate, "rotate the master key (gatekeepers generate the next generation)",
			func(rotateForm) (keysapi.Rotate, error) { return keysapi.Rotate{}, nil },
			func(keysapi.Rotate) rotateForm { return rotateForm{} }),
		form(govapi.MethodSpendTreasury, "pay an address from the treasury",
			func(f spendForm) (govapi.Spend, error) {
				a, err := token.ParsePHA(f.Amount)
				switch {
				case err != nil:
					return govapi.Spend{}, fmt.Errorf("amount: %w", err)
				case a.IsZero():
					return govapi.Spend{}, fmt.Errorf("amount: zero")
				case f.To.IsZero():
					return govapi.Spend{}, fmt.Errorf("to: missing")
				}
				return govapi.Spend{To: f.To, Amount: a}, nil
			},
			func(b govapi.Spend) spendForm { return spendForm{To: b.To, Amount: PHA(b.Amount)} }),
		same(govapi.MethodUpgrade, "schedule a software upgrade: nodes stop at its height until they run a release that knows it", checkPlan),
		form(govapi.MethodCancelUpgrade, "cancel the scheduled upgrade of this name",
			func(f cancelForm) (govapi.CancelUpgrade, error) {
				if f.Name == "" {
					return govapi.CancelUpgrade{}, fmt.Errorf("name: missing")
				}
				return govapi.CancelUpgrade{Name: f.Name}, nil
			},
			func(b govapi.CancelUpgrade) cancelForm { return cancelForm{Name: b.Name} }),
	}
	for _, m := range GovernedModules {
		kinds = append(kinds, form(SetParamsMethod(m), "change the "+m+" module's params (see phala query gov params)", paramChangeIn, func(b module.ParamChange) module.ParamChange { return b }))
	}
	return kinds
}

// PHA prints an amount as the CLI takes it: "1.5", no unit.
func PHA(a token.Amount) string { return strings.TrimSuffix(a.PHAString(), " PHA") }

type policyForm struct {
	Policy attest.Policy `json:"policy"`
}

type grantForm struct {
	IdentityKey attest.Hex      `json:"identity_key,omitempty"`
	Operator    address.Address `json:"operator,omitzero"`
}

type gatekeeperForm struct {
	Grant   grantForm `json:"grant"`
	Allowed bool      `json:"allowed"`
}

type clusterForm struct {
	ID string `json:"id"`
}

type assignForm struct {
	Cluster string     `json:"cluster"`
	Worker  attest.Hex `json:"worker"`
}

type rotateForm struct{}

type spendForm struct {
	To     address.Address `json:"to"`
	Amount string          `json:"amount"` // PHA: "100", "0.5", or base units "1500u"
}

type cancelForm struct {
	Name string `json:"name"`
}

func checkPlan(p govapi.Plan) error {
	switch {
	case p.Name == "" || len(p.Name) > govapi.MaxPlanName:
		return fmt.Errorf("name: %d bytes, want 1..%d", len(p.Name), govapi.MaxPlanName)
	case p.Height <= 0:
		return fmt.Errorf("height: %d, want a future block height", p.Height)
	case len(p.Info) > govapi.MaxPlanInfo:
		return fmt.Errorf("info: %d bytes, at most %d", len(p.Info), govapi.MaxPlanInfo)
	}
	return nil
}

// paramChangeIn checks a param change's form (the chain checks paths and
// ranges when the proposal is made) and compacts each value, so the same
// change always has the same bytes.
func paramChangeIn(c module.ParamChange) (module.ParamChange, error) {
	if len(c.Changes) == 0 {
		return c, fmt.Errorf("changes: none")
	}
	if len(c.Changes) > module.MaxParamChanges {
		return c, fmt.Errorf("changes: %d, at most %d", len(c.Changes), module.MaxParamChanges)
	}
	out := module.ParamChange{Changes: make([]module.ParamValue, len(c.Changes))}
	for i, ch := range c.Changes {
		if ch.Path == "" {
			return c, fmt.Errorf("changes[%d].path: missing", i)
		}
		if len(ch.Value) == 0 {
			return c, fmt.Errorf("changes[%d].value: missing (the new value of %s, as the module's params query prints it)", i, ch.Path)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, ch.Value); err != nil {
			return c, fmt.Errorf("changes[%d].value: %w", i, err)
		}
		out.Changes[i] = module.ParamValue{Path: ch.Path, Value: buf.Bytes()}
	}
	return out, nil
}
