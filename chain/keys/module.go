package keys

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/errs"
)

// Stable error kinds: codes only ever get added.
var (
	ErrInvalid         = errs.Register(Name, 1, "invalid keys message")
	ErrUnauthorized    = errs.Register(Name, 2, "only the registry admin may do this")
	ErrUnknownCluster  = errs.Register(Name, 3, "no such cluster")
	ErrClusterExists   = errs.Register(Name, 4, "cluster already exists")
	ErrNotWorker       = errs.Register(Name, 5, "not an active registered worker")
	ErrAssigned        = errs.Register(Name, 6, "worker already assigned to a cluster")
	ErrRotationPending = errs.Register(Name, 7, "a master key generation is still pending")
	ErrGeneration      = errs.Register(Name, 8, "wrong master key generation")
	ErrConflict        = errs.Register(Name, 9, "a different public key is already recorded")
	ErrBadPublicKey    = errs.Register(Name, 10, "not an MLKEM768X25519 public key")
	ErrRecipient       = errs.Register(Name, 11, "recipient may not receive this key")
	ErrEnvelope        = errs.Register(Name, 12, "unusable envelope")
	ErrNotGatekeeper   = errs.Register(Name, 13, "only active gatekeepers send key messages")
	ErrUnknownContract = errs.Register(Name, 14, "no derivation was requested for this contract")
	ErrCorruptState    = errs.Register(Name, 15, "corrupt keys state")
)

// AdminGas is the execution cost of each admin transaction: a few reads
// and writes, no cryptography.
const AdminGas = 10_000

// Module is the chain's record of the key hierarchy.
type Module struct{}

var (
	_ module.Module        = Module{}
	_ module.EgressHandler = Module{}
)

// Name implements module.Module.
func (Module) Name() string { return Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: MethodCreateCluster, Gas: AdminGas, Handle: handleCreateCluster},
		{Name: MethodAssignWorker, Gas: AdminGas, Handle: handleAssignWorker},
		{Name: MethodRotate, Gas: AdminGas, Handle: handleRotate},
		{Name: MethodDeriveContract, Gas: AdminGas, Handle: handleDeriveContract},
	}
}

// Genesis is the module's genesis section; it has no fields yet. The first
// master key generation is pending from genesis on.
type Genesis struct{}

// InitGenesis implements module.Module: the section must be an empty
// object, so a typo in a future field is not silently ignored.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("keys genesis: %w", err)
	}
	putStatus(ctx.Store, MasterStatus{Pending: 1})
	return nil
}
