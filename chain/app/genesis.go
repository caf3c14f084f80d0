package app

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys"
	"github.com/phala-go/phala/chain/keys/keysapi"
	mqmodule "github.com/phala-go/phala/chain/mq"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/mq"
)

// Params are the application's own rules, in the "chain" genesis section.
type Params struct {
	_          struct{} `cbor:",toarray"`
	MaxTxBytes uint32   `json:"max_tx_bytes"`
}

// DefaultParams allow transactions up to 64 KiB.
func DefaultParams() Params { return Params{MaxTxBytes: 64 << 10} }

func (p Params) validate() error {
	if p.MaxTxBytes == 0 || p.MaxTxBytes > tx.HardMaxSize {
		return fmt.Errorf("chain genesis: max_tx_bytes %d must be in 1..%d", p.MaxTxBytes, tx.HardMaxSize)
	}
	return nil
}

// Genesis is the application's genesis: the "app_state" of CometBFT's
// genesis file. Each module has a section named after it.
type Genesis struct {
	Chain   Params                     `json:"chain"`
	Modules map[string]json.RawMessage `json:"-"`
}

// MarshalJSON flattens the module sections next to "chain".
func (g Genesis) MarshalJSON() ([]byte, error) {
	all := map[string]any{"chain": g.Chain}
	for name, raw := range g.Modules {
		all[name] = raw
	}
	return json.Marshal(all)
}

// ParseGenesis reads app_state strictly: every section known, none missing.
func ParseGenesis(raw []byte, modules []string) (Genesis, error) {
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sections); err != nil {
		return Genesis{}, fmt.Errorf("app genesis is not a JSON object: %w", err)
	}
	g := Genesis{Modules: map[string]json.RawMessage{}}
	chain, ok := sections["chain"]
	if !ok {
		return g, fmt.Errorf("app genesis has no \"chain\" section")
	}
	dec := json.NewDecoder(bytes.NewReader(chain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g.Chain); err != nil {
		return g, fmt.Errorf("app genesis \"chain\": %w", err)
	}
	if err := g.Chain.validate(); err != nil {
		return g, err
	}
	delete(sections, "chain")
	for _, name := range modules {
		s, ok := sections[name]
		if !ok {
			return g, fmt.Errorf("app genesis has no %q section", name)
		}
		g.Modules[name] = s
		delete(sections, name)
	}
	for name := range sections {
		return g, fmt.Errorf("app genesis has an unknown section %q", name)
	}
	return g, nil
}

// DefaultGenesis is a network with default parameters and the given module
// sections.
func DefaultGenesis(b bank.Genesis, r registryapi.Genesis) (Genesis, error) {
	g := Genesis{Chain: DefaultParams(), Modules: map[string]json.RawMessage{}}
	for name, section := range map[string]any{bankapi.Name: b, registryapi.Name: r, mq.Name: mqmodule.Genesis{}, keysapi.Name: keys.Genesis{}, contractsapi.Name: contractsapi.DefaultGenesis(), computeapi.Name: computeapi.DefaultGenesis(), poolsapi.Name: poolsapi.DefaultGenesis(), govapi.Name: govapi.Genesis{Params: govapi.DefaultParams()}} {
		raw, err := json.Marshal(section)
		if err != nil {
			return Genesis{}, fmt.Errorf("genesis section %s: %w", name, err)
		}
		g.Modules[name] = raw
	}
	return g, nil
}
