package contracts

import (
	"bytes"
	"slices"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// State is the module's checkpoint section (canonical CBOR). Contract
// storage is not in it: each contract's storage is a tree of encrypted
// pages outside the enclave (package statetree), and the section keeps
// its root, which authenticates every page.
type State struct {
	_ struct{} `cbor:",toarray"`
	// Generations are the master key generations the chain recorded,
	// ascending: the cluster key generations a worker may hold.
	Generations []uint32
	// Uploads are codes being assembled from contracts.code, by
	// (uploader, code hash).
	Uploads []Upload
	// Codes are complete codes whose hash was checked, by hash.
	Codes []Code
	// Contracts are the contracts of the clusters this worker holds a
	// key of, by id.
	Contracts []Contract
	// Receipts are the newest MaxReceipts receipts, oldest first.
	Receipts []ReceiptRecord
	// Events are the newest MaxAccountEvents events with an audience,
	// oldest first, for the accounts they name (served by signed
	// request); LastEvent is the newest one's index (from 1).
	Events    []EventRecord
	LastEvent uint64
}

// Upload is a code being assembled.
type Upload struct {
	_        struct{} `cbor:",toarray"`
	Uploader address.Address
	CodeHash contractsapi.Hash
	Size     uint64
	Bytes    []byte
}

// Code is a complete, verified code.
type Code struct {
	_     struct{} `cbor:",toarray"`
	Hash  contractsapi.Hash
	Bytes []byte
}

// Contract is a contract this worker runs.
type Contract struct {
	_        struct{} `cbor:",toarray"`
	ID       contractsapi.Hash
	CodeHash contractsapi.Hash
	Cluster  string
	Deployer address.Address
	// Generation is the key generation whose cluster key opened the init
	// arguments; the contract's random seed and signing keys derive from
	// its contract key of that generation, so they survive rotations.
	Generation uint32
	Height     int64
	// Constructor is the constructor's outcome; only a contract whose
	// constructor succeeded runs commands.
	Constructor contractsapi.Status
	// Balance is what the contract's account holds for it as the workers
	// count it from the message stream: the value of its commands that
	// succeeded, plus payouts to it from contracts of its cluster, less
	// its payouts. The chain's figure is never lower (it adds value at
	// once and takes payouts when results land), so a payout within it is
	// always covered.
	Balance token.Amount
	// Root is the root of the contract's state tree, sealed under the
	// state keys of its contract key of Generation (which the keystore
	// keeps after rotations); zero while it has none (no key held).
	Root contractsapi.Hash
}

func (c *Contract) running() bool { return c.Constructor == contractsapi.StatusOK }

func findCode(codes []Code, h contractsapi.Hash) (int, bool) {
	return slices.BinarySearchFunc(codes, h, func(c Code, h contractsapi.Hash) int { return bytes.Compare(c.Hash[:], h[:]) })
}
