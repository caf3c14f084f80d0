package poolsapi

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the pools module. They live in the wire form so that a
// client proving a pool or a position computes the key without linking
// the handlers.
var (
	ParamsKey      = state.NewKeyFormat(state.ModulePools, 0x01) // → Params
	LastIDKey      = state.NewKeyFormat(state.ModulePools, 0x02) // → the last pool's ID (8 bytes BE)
	PoolKey        = state.NewKeyFormat(state.ModulePools, 0x03) // id → Pool
	DelegationKey  = state.NewKeyFormat(state.ModulePools, 0x04) // id ‖ delegator → Delegation
	DelegatorKey   = state.NewKeyFormat(state.ModulePools, 0x05) // delegator ‖ id → nothing: a delegator's pools
	QueueKey       = state.NewKeyFormat(state.ModulePools, 0x06) // id ‖ index (8 bytes BE) → QueueEntry
	WorkerKey      = state.NewKeyFormat(state.ModulePools, 0x07) // worker identity key → PoolWorker
	PoolWorkersKey = state.NewKeyFormat(state.ModulePools, 0x08) // id ‖ worker identity key → nothing
	QueuedPoolsKey = state.NewKeyFormat(state.ModulePools, 0x09) // id → nothing: pools whose queue is not empty
)

// IDBytes is id's 8 big-endian bytes, the order of keys.
func IDBytes(id ID) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// IDFromBytes reads IDBytes.
func IDFromBytes(b []byte) (ID, error) {
	if len(b) != 8 {
		return 0, ErrInvalid.Wrapf("pool id of %d bytes, want 8", len(b))
	}
	return ID(binary.BigEndian.Uint64(b)), nil
}

// PoolKeyOf is the state key of a pool's record.
func PoolKeyOf(id ID) []byte { return PoolKey.Key(IDBytes(id)) }

// DelegationKeyOf is the state key of a delegator's position in a pool.
func DelegationKeyOf(id ID, delegator address.Address) []byte {
	return DelegationKey.Key(IDBytes(id), delegator[:])
}

// DelegatorKeyOf indexes a delegator's pools.
func DelegatorKeyOf(delegator address.Address, id ID) []byte {
	return DelegatorKey.Key(delegator[:], IDBytes(id))
}

// QueueKeyOf is the state key of a pool's queue entry.
func QueueKeyOf(id ID, index uint64) []byte {
	return QueueKey.Key(IDBytes(id), binary.BigEndian.AppendUint64(nil, index))
}

// WorkerKeyOf is the state key of a worker's pool membership.
func WorkerKeyOf(worker []byte) []byte { return WorkerKey.Key(worker) }

// PoolWorkerKeyOf lists a worker under its pool.
func PoolWorkerKeyOf(id ID, worker []byte) []byte { return PoolWorkersKey.Key(IDBytes(id), worker) }

// QueuedPoolKeyOf marks a pool whose queue waits.
func QueuedPoolKeyOf(id ID) []byte { return QueuedPoolsKey.Key(IDBytes(id)) }
