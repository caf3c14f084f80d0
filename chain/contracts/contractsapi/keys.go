package contractsapi

import (
	"encoding/binary"

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

// State of results settlement.
var (
	PendingCommandKey = state.NewKeyFormat(state.ModuleContract, 0x06) // seq (8 bytes BE) → PendingCommand
	BlockCommandsKey  = state.NewKeyFormat(state.ModuleContract, 0x07) // height (8 bytes BE) ‖ cluster → seqs (8 bytes BE each, chain order)
	SettlementKey     = state.NewKeyFormat(state.ModuleContract, 0x08) // height (8 bytes BE) ‖ cluster → Settlement
)

func heightBytes(h int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(h)) }

// PendingCommandKeyOf is the state key of a command awaiting settlement.
func PendingCommandKeyOf(seq uint64) []byte {
	return PendingCommandKey.Key(binary.BigEndian.AppendUint64(nil, seq))
}

// BlockCommandsKeyOf is the state key of the commands of a cluster's
// contracts in a block.
func BlockCommandsKeyOf(height int64, cluster string) []byte {
	return BlockCommandsKey.Key(heightBytes(height), []byte(cluster))
}

// SettlementKeyOf is the state key of a settled (height, cluster).
func SettlementKeyOf(height int64, cluster string) []byte {
	return SettlementKey.Key(heightBytes(height), []byte(cluster))
}
