package govapi

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the governance module.
var (
	UnsafeDevAdminKey = state.NewKeyFormat(state.ModuleGov, 0x01) // → address (absent on a production chain)
	ParamsKey         = state.NewKeyFormat(state.ModuleGov, 0x02) // → Params
	LastIDKey         = state.NewKeyFormat(state.ModuleGov, 0x03) // → the last proposal's ID (8 bytes BE)
	ProposalKey       = state.NewKeyFormat(state.ModuleGov, 0x04) // id → Proposal
	DepositKey        = state.NewKeyFormat(state.ModuleGov, 0x05) // id ‖ depositor → token.Amount
	VoteKey           = state.NewKeyFormat(state.ModuleGov, 0x06) // id ‖ voter → VoteRecord
	EndsKey           = state.NewKeyFormat(state.ModuleGov, 0x07) // end (unix ns, 8 bytes BE) ‖ id → nothing: open proposals by the end of their current period
	UpgradeKey        = state.NewKeyFormat(state.ModuleGov, 0x08) // → Plan
)

// IDBytes is id's 8 big-endian bytes, the order of keys.
func IDBytes(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// ProposalKeyOf is the state key of a proposal.
func ProposalKeyOf(id uint64) []byte { return ProposalKey.Key(IDBytes(id)) }

// DepositKeyOf is the state key of one depositor's deposit on a proposal.
func DepositKeyOf(id uint64, who address.Address) []byte { return DepositKey.Key(IDBytes(id), who[:]) }

// VoteKeyOf is the state key of one voter's vote on a proposal.
func VoteKeyOf(id uint64, who address.Address) []byte { return VoteKey.Key(IDBytes(id), who[:]) }

// EndsKeyOf indexes an open proposal under the end of its period.
func EndsKeyOf(endUnixNano int64, id uint64) []byte {
	return EndsKey.Key(binary.BigEndian.AppendUint64(nil, uint64(endUnixNano)), IDBytes(id))
}
