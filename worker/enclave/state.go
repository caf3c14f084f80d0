package enclave

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/worker/enclave/outbox"
	"github.com/phala-go/phala/worker/lightclient"
)

// StateVersion is the version of State this code writes and reads. 4: the
// modules' states are sections of their own (3 had one flat state).
const StateVersion = 4

// State is everything the enclave knows, folded from the verified event
// stream: two enclaves fed the same blocks hold equal states except for
// their own identity (and what follows from it: registration, outbox,
// keys held).
type State struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Identity ed25519.PublicKey
	Role     registryapi.Role
	Light    lightclient.State
	Outbox   outbox.Outbox
	Counters Counters
	// Modules are the modules' state sections, in the loop's module order.
	Modules []Section
}

// Section is one module's state, canonical CBOR.
type Section struct {
	_     struct{} `cbor:",toarray"`
	Name  string
	State []byte
}

// Counters count ingress messages the enclave did not act on.
type Counters struct {
	_ struct{} `cbor:",toarray"`
	// UnknownTopics counts messages on topics no module owns.
	UnknownTopics uint64
	// Malformed counts verified messages whose payload did not decode.
	Malformed uint64
}

// Hash commits to the whole state under sigctx.RuntimeState.
func (s *State) Hash() []byte {
	h := sigctx.RuntimeState.Hash(s.Light.ChainID, codec.MustMarshal(s))
	return h[:]
}

// clone returns a deep copy, for readers that must not see later changes.
func (s *State) clone() (State, error) {
	var out State
	err := codec.Unmarshal(codec.MustMarshal(s), &out)
	return out, err
}
