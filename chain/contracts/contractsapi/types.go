// Package contractsapi is the contracts module's wire form: transaction
// bodies (chunked code upload, instantiation, encrypted commands), the
// messages the module publishes for enclaves, the plaintexts a client seals
// for workers, query names and answers, error kinds, gas, params and the
// genesis section, with strict decoders for every body. Clients and
// enclaves import it; the handlers live in chain/contracts.
//
// The chain never sees a contract's inputs: init arguments are sealed to
// the cluster's public key, commands to the contract's; the chain checks
// only that they are envelopes of the right suite and size, orders them,
// and publishes them on the block's message list, in chain order, for the
// workers of the contract's cluster.
package contractsapi

import (
	"encoding/hex"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "contracts"

// Transactions.
const (
	// MethodUpload carries one chunk of a contract's code (body Upload).
	// Chunks of one (uploader, code hash) arrive in order; the chain keeps
	// the running SHA-256, never the bytes, and publishes each chunk for
	// enclaves (TopicCode).
	MethodUpload = "contracts.upload"
	// MethodInstantiate creates a contract from uploaded code in a
	// cluster and asks the gatekeepers for its key (body Instantiate).
	MethodInstantiate = "contracts.instantiate"
	// MethodCommand sends an encrypted command to a contract (body
	// Command).
	MethodCommand = "contracts.command"
	// MethodSetParams changes the params (body module.ParamChange; the
	// chain's authority only: chain/authority).
	MethodSetParams = "contracts.set_params"
)

// Topics the module publishes for enclaves, in chain order.
const (
	// TopicCode: one accepted chunk of code (payload CodeChunk). A chunk
	// at offset 0 starts (or restarts) the upload of its (uploader, code
	// hash): a worker drops what it had assembled for that pair.
	TopicCode = "contracts.code"
	// TopicCodeStored: the last chunk arrived and the bytes hash to the
	// code hash (payload Code): the code is final.
	TopicCodeStored = "contracts.code_stored"
	// TopicInstantiate: a contract was created (payload Instantiated).
	// The workers of its cluster run its constructor once its key exists.
	TopicInstantiate = "contracts.instantiate"
	// TopicCommand: a command for a contract (payload CommandMessage).
	TopicCommand = "contracts.command"
)

// Event types of the module's transactions.
const (
	EventCodeChunk    = "code_chunk"
	EventCodeStored   = "code_stored"
	EventInstantiated = "contract_instantiated"
	EventCommand      = "contract_command"
	EventParams       = "contracts_params" // set_params: attribute "changed"
)

// Hash is a SHA-256: a code hash (the code id) or a contract id.
type Hash [32]byte

// String is lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex digits (an optional 0x prefix allowed).
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, ErrInvalid.Wrapf("%q is not 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// Upload is the body of MethodUpload: Chunk holds the code bytes
// [Offset, Offset+len(Chunk)) of a code of Size bytes whose SHA-256 is
// CodeHash. Offset 0 starts the upload (again, if one was under way);
// every other chunk must start where the uploader's previous one ended.
type Upload struct {
	_        struct{} `cbor:",toarray"`
	CodeHash Hash
	Size     uint64
	Offset   uint64
	Chunk    []byte
}

// Instantiate is the body of MethodInstantiate. InitArgs is an envelope
// (crypto/envelope, purpose Command, default suite) sealed to the
// cluster's newest public key with InitAAD of the contract id; its
// plaintext is an Init. The contract id is ContractID of the sender, the
// code hash, the cluster and the salt, so a client knows it beforehand.
type Instantiate struct {
	_        struct{} `cbor:",toarray"`
	CodeHash Hash
	Cluster  string
	Salt     []byte // 0..MaxSalt bytes
	InitArgs []byte
}

// Command is the body of MethodCommand. Sealed is an envelope (purpose
// Command, default suite) sealed to the contract's public key of
// Generation, with CommandAAD of the contract and the sender; its
// plaintext is a CommandPlain. GasLimit × the gas price is reserved from
// the sender (refunded, less what the command used, when workers report
// results); Value moves to the contract's account.
type Command struct {
	_          struct{} `cbor:",toarray"`
	Contract   Hash
	Generation uint32
	Sealed     []byte
	GasLimit   uint64
	Value      token.Amount
}

// Init is the plaintext of Instantiate.InitArgs: the constructor's
// arguments (JSON, as the SDK reads them; empty: none).
type Init struct {
	_    struct{} `cbor:",toarray"`
	Args []byte
}

// CommandPlain is the plaintext of Command.Sealed: what only the workers
// of the contract's cluster read. The receipt and the sender's events are
// sealed to ReplyKey (a serialized public key of the default envelope
// suite, fresh per command).
type CommandPlain struct {
	_        struct{} `cbor:",toarray"`
	Method   string
	Args     []byte // JSON, as the SDK reads them
	ReplyKey []byte
}

// CodeChunk is published on TopicCode for each accepted chunk.
type CodeChunk struct {
	_        struct{} `cbor:",toarray"`
	Uploader address.Address
	CodeHash Hash
	Size     uint64
	Offset   uint64
	Chunk    []byte
}

// Code is an uploaded code as the chain records it (and publishes it on
// TopicCodeStored).
type Code struct {
	_        struct{}        `cbor:",toarray"`
	Hash     Hash            `json:"hash"`
	Size     uint64          `json:"size"`
	Uploader address.Address `json:"uploader"`
	Height   int64           `json:"height"`
}

// PendingUpload is an upload under way: the chain keeps the SHA-256
// state of the bytes so far (crypto/sha256's MarshalBinary), not the bytes.
type PendingUpload struct {
	_         struct{} `cbor:",toarray"`
	CodeHash  Hash
	Uploader  address.Address
	Size      uint64
	Received  uint64
	HashState []byte
	Started   int64 // height of the chunk at offset 0
}

// Contract is a contract as the chain records it.
type Contract struct {
	_        struct{}        `cbor:",toarray"`
	ID       Hash            `json:"id"`
	CodeHash Hash            `json:"code_hash"`
	Cluster  string          `json:"cluster"`
	Deployer address.Address `json:"deployer"`
	Salt     []byte          `json:"salt"`
	Height   int64           `json:"height"`
}

// Instantiated is published on TopicInstantiate.
type Instantiated struct {
	_        struct{} `cbor:",toarray"`
	Contract Hash
	CodeHash Hash
	Cluster  string
	Deployer address.Address
	InitArgs []byte // the envelope, as sent
}

// CommandMessage is published on TopicCommand: everything a worker needs
// to run the command, in chain order. Seq numbers every accepted command
// of the chain from 1, so a command is named by it (results); TxHash is
// the hash of the transaction that carried it, which its sender knows
// before the block (receipts are served by it).
type CommandMessage struct {
	_          struct{} `cbor:",toarray"`
	Seq        uint64
	Contract   Hash
	Sender     address.Address
	Generation uint32
	Sealed     []byte
	GasLimit   uint64
	Value      token.Amount
	TxHash     Hash
}

// ContractID is the id of the contract deployer creates from code in
// cluster with salt on chain chainID.
func ContractID(chainID string, deployer address.Address, code Hash, cluster string, salt []byte) Hash {
	return sigctx.ContractID.Hash(chainID, deployer[:], code[:], []byte(cluster), salt)
}

// InitAAD is the additional data Instantiate.InitArgs is sealed with.
func InitAAD(contract Hash) []byte { return append([]byte("init:"), contract[:]...) }

// CommandAAD is the additional data Command.Sealed is sealed with: the
// ciphertext opens only as a command of that sender to that contract.
func CommandAAD(contract Hash, sender address.Address) []byte {
	b := append([]byte("command:"), contract[:]...)
	return append(b, sender[:]...)
}

// ContractAccount is the contract's own bank account: value sent with
// commands lands here. No key controls it; the chain pays out of it on
// the workers' results.
func ContractAccount(id Hash) address.Address {
	return address.Module("contracts/account/" + id.String())
}

// Escrow is the module account holding the gas reserved by commands
// until the workers' results settle it.
var Escrow = address.Module("contracts/escrow")

// Bounds of bodies.
const (
	// MaxChunk bounds one upload chunk; a transaction's own limit
	// (max_tx_bytes, 64 KiB by default) bounds it further.
	MaxChunk = 64 << 10
	// DefaultChunk is what clients send: a chunk and the transaction
	// around it fit in 64 KiB.
	DefaultChunk = 60 << 10
	// MaxSalt bounds an instantiation's salt.
	MaxSalt = 64
	// MaxList bounds one page of the contracts list.
	MaxList = 100
)

// Params are the module's rules, set at genesis.
type Params struct {
	_ struct{} `cbor:",toarray"`
	// UploadByteFee is paid per uploaded byte, on top of the transaction
	// fee, to the treasury.
	UploadByteFee token.Amount `json:"upload_byte_fee"`
	// MaxCodeSize bounds a code's size.
	MaxCodeSize uint64 `json:"max_code_size"`
	// GasPrice is what one unit of a command's gas limit reserves.
	GasPrice token.Amount `json:"gas_price"`
	// MaxGasLimit bounds a command's gas limit.
	MaxGasLimit uint64 `json:"max_gas_limit"`
	// MaxSealedSize bounds init arguments' and commands' envelopes.
	MaxSealedSize uint64 `json:"max_sealed_size"`
	// ResultsTimeout is how many blocks the workers of a cluster have to
	// report a block's results: at the end of block h + ResultsTimeout the
	// commands of block h still unsettled get their whole reserve back
	// (EventExpired), and results for that block are refused from then on
	// (ErrResultsExpired).
	ResultsTimeout uint64 `json:"results_timeout_blocks"`
	// UploadTimeout is how many blocks an upload may take from its first
	// chunk: at the end of block start + UploadTimeout an unfinished
	// upload is dropped (EventUploadExpired; TopicUploadDropped tells the
	// workers). The upload fees it paid are not refunded: the chain
	// carried its chunks to every enclave.
	UploadTimeout uint64 `json:"upload_timeout_blocks"`
}

// DefaultParams: 0.000001 PHA per uploaded byte (a 3.4 MB Go contract
// pays 3.4 PHA on top of its transactions' fees), codes up to 16 MiB, gas
// at 0.000000001 PHA (a million gas reserves 0.001 PHA), at most ten
// billion gas per command, envelopes up to 32 KiB; results due within
// 7,200 blocks (an hour at the devnet's half-second blocks, half a day at
// six seconds), uploads finished within 7,200 blocks.
func DefaultParams() Params {
	return Params{
		UploadByteFee:  token.FromUint64(1_000_000),
		MaxCodeSize:    16 << 20,
		GasPrice:       token.FromUint64(1_000),
		MaxGasLimit:    10_000_000_000,
		MaxSealedSize:  32 << 10,
		ResultsTimeout: 7_200,
		UploadTimeout:  7_200,
	}
}

// MaxTimeout bounds both timeouts (about 2 × 10^9 blocks): a height plus a
// timeout stays far inside int64.
const MaxTimeout = 1 << 31

// Upper bounds of the sizes: every worker of a cluster holds each code in
// its enclave's memory, and no transaction is larger than a megabyte
// anyway (the chain's max_tx_bytes is 64 KiB by default).
const (
	MaxMaxCodeSize   = 64 << 20
	MaxMaxSealedSize = 1 << 20
)

// Validate checks params before the chain uses them.
func (p Params) Validate() error {
	switch {
	case p.MaxCodeSize == 0 || p.MaxCodeSize > MaxMaxCodeSize:
		return ErrParams.Wrapf("max_code_size must be in [1, %d]", MaxMaxCodeSize)
	case p.MaxGasLimit == 0:
		return ErrParams.Wrapf("max_gas_limit must be positive")
	case p.MaxSealedSize == 0 || p.MaxSealedSize > MaxMaxSealedSize:
		return ErrParams.Wrapf("max_sealed_size must be in [1, %d]", MaxMaxSealedSize)
	case p.ResultsTimeout == 0 || p.ResultsTimeout > MaxTimeout:
		return ErrParams.Wrapf("results_timeout_blocks must be 1..%d", uint64(MaxTimeout))
	case p.UploadTimeout == 0 || p.UploadTimeout > MaxTimeout:
		return ErrParams.Wrapf("upload_timeout_blocks must be 1..%d", uint64(MaxTimeout))
	}
	if _, err := p.GasPrice.MulUint64(p.MaxGasLimit); err != nil {
		return ErrParams.Wrapf("gas_price × max_gas_limit overflows")
	}
	if _, err := p.UploadByteFee.MulUint64(p.MaxCodeSize); err != nil {
		return ErrParams.Wrapf("upload_byte_fee × max_code_size overflows")
	}
	return nil
}

// Reserve is what a command of gasLimit reserves.
func (p Params) Reserve(gasLimit uint64) (token.Amount, error) { return p.GasPrice.MulUint64(gasLimit) }

// UploadFee is what n uploaded bytes pay on top of the transaction fee.
func (p Params) UploadFee(n int) (token.Amount, error) { return p.UploadByteFee.MulUint64(uint64(n)) }

// Genesis is the module's genesis section.
type Genesis struct {
	Params Params `json:"params"`
}

// DefaultGenesis has the default params.
func DefaultGenesis() Genesis { return Genesis{Params: DefaultParams()} }

// Gas: the fixed execution cost of each transaction (the envelope's gas
// limit must cover it). A command's own gas is its body's GasLimit, paid
// through the reserve.
const (
	UploadGas      = 20_000 // a SHA-256 over at most 64 KiB, two writes
	InstantiateGas = 50_000
	CommandGas     = 20_000
	SetParamsGas   = 10_000
)

// Query paths.
const (
	QueryParams    = "contracts/params"    // → Params
	QueryCode      = "contracts/code"      // data: 32-byte code hash → Code
	QueryUpload    = "contracts/upload"    // data: CBOR UploadQuery → PendingUpload
	QueryContract  = "contracts/contract"  // data: 32-byte contract id → Contract
	QueryContracts = "contracts/contracts" // data: CBOR ListQuery (or none: the first page) → ContractList
	QueryWorkers   = "contracts/workers"   // data: a cluster id → []ClusterWorker
)

// ClusterWorker is a worker of a cluster as clients look for it (answer
// of QueryWorkers, in assignment order): its identity key, whether the
// registry counts it active, the public API URL it published
// (registry.endpoint egress; empty: none yet) with the height recording
// it, and its newest heartbeat.
type ClusterWorker struct {
	_              struct{} `cbor:",toarray"`
	IdentityKey    []byte   `json:"identity_key"`
	Active         bool     `json:"active"`
	URL            string   `json:"url"`
	EndpointHeight int64    `json:"endpoint_height"`
	LastHeartbeat  int64    `json:"last_heartbeat"`
}

// UploadQuery is the data of QueryUpload.
type UploadQuery struct {
	_        struct{} `cbor:",toarray"`
	Uploader address.Address
	CodeHash Hash
}

// ListQuery is the data of QueryContracts: contracts by id after After
// (exclusive; zero: from the start), at most Limit (0 or more than
// MaxList: MaxList).
type ListQuery struct {
	_     struct{} `cbor:",toarray"`
	After Hash
	Limit uint32
}

// ContractList answers QueryContracts; More says a next page exists
// (ask again with After the last id).
type ContractList struct {
	_         struct{} `cbor:",toarray"`
	Contracts []Contract
	More      bool
}

// Stable error kinds: codes only ever get added.
var (
	ErrInvalid         = errs.Register(Name, 1, "invalid contracts message")
	ErrCodeExists      = errs.Register(Name, 2, "code already uploaded")
	ErrUploadOrder     = errs.Register(Name, 3, "chunk out of order")
	ErrCodeTooLarge    = errs.Register(Name, 4, "code larger than the limit")
	ErrCodeHash        = errs.Register(Name, 5, "uploaded bytes do not hash to the code hash")
	ErrUnknownCode     = errs.Register(Name, 6, "no such code")
	ErrUnknownCluster  = errs.Register(Name, 7, "no such cluster")
	ErrContractExists  = errs.Register(Name, 8, "contract already exists")
	ErrUnknownContract = errs.Register(Name, 9, "no such contract")
	ErrNoContractKey   = errs.Register(Name, 10, "the contract's public key is not recorded (yet)")
	ErrGasLimit        = errs.Register(Name, 11, "gas limit out of bounds")
	ErrEnvelope        = errs.Register(Name, 12, "unusable envelope")
	ErrCorruptState    = errs.Register(Name, 13, "corrupt contracts state")
	ErrParams          = errs.Register(Name, 17, "parameter out of range")
	ErrUnauthorized    = errs.Register(Name, 18, "only the chain's authority may do this")
)

// MarshalText writes hex, so JSON shows hashes as text.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
