package runtime

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"slices"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/lightclient"
)

// genesisState is the state the runtime starts from on a chain: the light
// client's trust root and the registry section of the genesis app state.
// The genesis document is the only thing the runtime trusts unverified.
func genesisState(doc *lightclient.Genesis, identity ed25519.PublicKey, role registryapi.Role) (State, error) {
	light, err := lightclient.GenesisState(doc)
	if err != nil {
		return State{}, ErrGenesis.Wrapf("light client: %v", err)
	}
	reg, err := registryGenesis(doc.AppState)
	if err != nil {
		return State{}, err
	}
	view := RegistryView{Policy: reg.Policy}
	for _, g := range reg.Gatekeepers {
		view.setGrant(g, true)
	}
	return State{
		Version: StateVersion, Identity: identity, Role: role, Light: light,
		Registry: view, Outbox: Outbox{NextSeq: 1},
	}, nil
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

// signer signs egress with the runtime's identity key.
type signer struct{ key ed25519.PrivateKey }

func (s signer) sign(chainID string, e mq.Egress) mq.SignedEgress {
	return mq.SignEgress(chainID, s.key, e)
}

// pendingCopy copies the outbox for a reader outside the lock. Messages
// are never changed in place, so a shallow copy is enough.
func pendingCopy(p []mq.SignedEgress) []mq.SignedEgress { return slices.Clone(p) }
