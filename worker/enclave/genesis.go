package enclave

import (
	"bytes"
	"encoding/json"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/worker/lightclient"
)

// genesisSections are what the modules start from on a chain.
type genesisSections struct {
	registry registryapi.Genesis
	compute  computeapi.Genesis
}

// readGenesis takes what the enclave starts from on a chain: the light
// client's trust root and the registry and compute sections of the
// genesis app state. The genesis is the only thing the enclave trusts
// unverified.
func readGenesis(doc *lightclient.Genesis) (lightclient.State, genesisSections, error) {
	light, err := lightclient.GenesisState(doc)
	if err != nil {
		return lightclient.State{}, genesisSections{}, ErrGenesis.Wrapf("light client: %v", err)
	}
	reg, err := registryGenesis(doc.AppState)
	if err != nil {
		return lightclient.State{}, genesisSections{}, err
	}
	comp, err := computeGenesis(doc.AppState)
	if err != nil {
		return lightclient.State{}, genesisSections{}, err
	}
	return light, genesisSections{registry: reg, compute: comp}, nil
}

// computeGenesis reads the compute section of app_state strictly. A chain
// without one has no economy; its defaults stand in (no session can
// start there, so nothing is ever settled with them).
func computeGenesis(appState json.RawMessage) (computeapi.Genesis, error) {
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(appState, &sections); err != nil {
		return computeapi.Genesis{}, ErrGenesis.Wrapf("app_state is not a JSON object: %v", err)
	}
	raw, ok := sections[computeapi.Name]
	if !ok {
		return computeapi.DefaultGenesis(), nil
	}
	var g computeapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return computeapi.Genesis{}, ErrGenesis.Wrapf("compute section: %v", err)
	}
	if _, err := tokenomics.NewRates(g.Params.Economy); err != nil {
		return computeapi.Genesis{}, ErrGenesis.Wrapf("compute params: %v", err)
	}
	return g, nil
}

// registryGenesis reads the registry section of app_state, strictly, as the
// chain does; other sections are the chain's business.
func registryGenesis(appState json.RawMessage) (registryapi.Genesis, error) {
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(appState, &sections); err != nil {
		return registryapi.Genesis{}, ErrGenesis.Wrapf("app_state is not a JSON object: %v", err)
	}
	raw, ok := sections[registryapi.Name]
	if !ok {
		return registryapi.Genesis{}, ErrGenesis.Wrapf("app_state has no %q section", registryapi.Name)
	}
	var g registryapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return registryapi.Genesis{}, ErrGenesis.Wrapf("registry section: %v", err)
	}
	if err := g.Policy.Validate(); err != nil {
		return registryapi.Genesis{}, ErrGenesis.Wrapf("registry policy: %v", err)
	}
	return g, nil
}
