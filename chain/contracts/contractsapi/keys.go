package contractsapi

import (
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the contracts module. They live in the wire form, not
// beside the handlers, so a client proving a code or contract record
// computes the key without linking the handlers.
var (
	ParamsKey     = state.NewKeyFormat(state.ModuleContract, 0x01) // → Params
	CodeKey       = state.NewKeyFormat(state.ModuleContract, 0x02) // code hash → Code
	UploadKey     = state.NewKeyFormat(state.ModuleContract, 0x03) // uploader ‖ code hash → PendingUpload
	ContractKey   = state.NewKeyFormat(state.ModuleContract, 0x04) // contract id → Contract
	CommandSeqKey = state.NewKeyFormat(state.ModuleContract, 0x05) // → the last command's Seq (8 bytes BE)
)

// CodeKeyOf is the state key of a code's record.
func CodeKeyOf(h Hash) []byte { return CodeKey.Key(h[:]) }

// UploadKeyOf is the state key of an upload under way.
func UploadKeyOf(uploader address.Address, h Hash) []byte { return UploadKey.Key(uploader[:], h[:]) }

// ContractKeyOf is the state key of a contract's record.
func ContractKeyOf(id Hash) []byte { return ContractKey.Key(id[:]) }
