package enclave

import (
	"bytes"
	"encoding/json"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/worker/lightclient"
)

// readGenesis takes what the enclave starts from on a chain: the light
// client's trust root and the registry section of the genesis app state.
// The genesis is the only thing the enclave trusts unverified.
func readGenesis(doc *lightclient.Genesis) (lightclient.State, registryapi.Genesis, error) {
	light, err := lightclient.GenesisState(doc)
	if err != nil {
		return lightclient.State{}, registryapi.Genesis{}, ErrGenesis.Wrapf("light client: %v", err)
	}
	reg, err := registryGenesis(doc.AppState)
	if err != nil {
		return lightclient.State{}, registryapi.Genesis{}, err
	}
	return light, reg, nil
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
