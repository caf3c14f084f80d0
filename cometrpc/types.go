package cometrpc

import (
	"fmt"
	"time"
)

// The structs below mirror CometBFT's JSON answers, keeping the fields
// phala uses. JSON tags with ",string" are CometBFT's 64-bit integers,
// which it writes as strings; fields it adds in later versions are
// ignored, so a newer node still answers.

// Status is a node's view of itself and its chain.
type Status struct {
	NodeInfo      NodeInfo      `json:"node_info"`
	SyncInfo      SyncInfo      `json:"sync_info"`
	ValidatorInfo ValidatorInfo `json:"validator_info"`
}

// NodeInfo names the node and its chain.
type NodeInfo struct {
	ID      string `json:"id"`
	Network string `json:"network"` // the chain id
	Version string `json:"version"`
	Moniker string `json:"moniker"`
}

// SyncInfo is the node's newest and oldest stored block.
type SyncInfo struct {
	LatestBlockHash     HexBytes  `json:"latest_block_hash"`
	LatestAppHash       HexBytes  `json:"latest_app_hash"`
	LatestBlockHeight   int64     `json:"latest_block_height,string"`
	LatestBlockTime     time.Time `json:"latest_block_time"`
	EarliestBlockHash   HexBytes  `json:"earliest_block_hash"`
	EarliestAppHash     HexBytes  `json:"earliest_app_hash"`
	EarliestBlockHeight int64     `json:"earliest_block_height,string"`
	EarliestBlockTime   time.Time `json:"earliest_block_time"`
	CatchingUp          bool      `json:"catching_up"`
}

// ValidatorInfo is the node's own validator key and power (0: not one).
type ValidatorInfo struct {
	Address     HexBytes `json:"address"`
	PubKey      PubKey   `json:"pub_key"`
	VotingPower int64    `json:"voting_power,string"`
}

// PubKey is a typed public key, as CometBFT's JSON writes it
// ({"type":"tendermint/PubKeyEd25519","value":base64}).
type PubKey struct {
	Type  string `json:"type"`
	Value []byte `json:"value"`
}

// QueryResponse is the application's answer to an ABCI query.
type QueryResponse struct {
	Code      uint32 `json:"code"`
	Log       string `json:"log"`
	Info      string `json:"info"`
	Index     int64  `json:"index,string"`
	Key       []byte `json:"key"`
	Value     []byte `json:"value"`
	Height    int64  `json:"height,string"`
	Codespace string `json:"codespace"`
	// ProofOps is the proof an application gives when asked (nil when
	// not asked or not given). CometBFT names it in camel case, unlike
	// the fields around it (checked against a node in devnet_test.go).
	ProofOps *ProofOps `json:"proofOps"`
}

// ProofOps is the proof of a query's answer: operations applied in order,
// from the value up to a root a header commits to.
type ProofOps struct {
	Ops []ProofOp `json:"ops"`
}

// ProofOp is one step of a proof; Key and Data are base64 in JSON, and
// what they mean is the Type's business.
type ProofOp struct {
	Type string `json:"type"`
	Key  []byte `json:"key"`
	Data []byte `json:"data"`
}

// Bounds on a proof from an untrusted node: CometBFT's store proofs have
// two or three operations, phala's two, each a few kilobytes.
const (
	MaxProofOps    = 16
	MaxProofOpData = 1 << 20
)

// check refuses proofs no application of ours makes: they would only be
// work for the verifier.
func (p *ProofOps) check() error {
	if p == nil {
		return nil
	}
	if len(p.Ops) > MaxProofOps {
		return fmt.Errorf("proof of %d operations (at most %d)", len(p.Ops), MaxProofOps)
	}
	for i, op := range p.Ops {
		if len(op.Type) > 256 || len(op.Key) > MaxProofOpData || len(op.Data) > MaxProofOpData {
			return fmt.Errorf("proof operation %d: type %d bytes, key %d, data %d (at most 256, %d, %d)",
				i, len(op.Type), len(op.Key), len(op.Data), MaxProofOpData, MaxProofOpData)
		}
	}
	return nil
}

// BroadcastResult is the mempool's CheckTx verdict on a transaction.
type BroadcastResult struct {
	Code      uint32   `json:"code"`
	Data      HexBytes `json:"data"`
	Log       string   `json:"log"`
	Codespace string   `json:"codespace"`
	Hash      HexBytes `json:"hash"`
}

// Tx is a committed transaction with its execution result.
type Tx struct {
	Hash     HexBytes   `json:"hash"`
	Height   int64      `json:"height,string"`
	Index    uint32     `json:"index"`
	TxResult ExecResult `json:"tx_result"`
	Tx       []byte     `json:"tx"`
}

// ExecResult is how a transaction fared in its block.
type ExecResult struct {
	Code      uint32  `json:"code"`
	Data      []byte  `json:"data"`
	Log       string  `json:"log"`
	Info      string  `json:"info"`
	GasWanted int64   `json:"gas_wanted,string"`
	GasUsed   int64   `json:"gas_used,string"`
	Events    []Event `json:"events"`
	Codespace string  `json:"codespace"`
}

// Event is an event a transaction emitted.
type Event struct {
	Type       string           `json:"type"`
	Attributes []EventAttribute `json:"attributes"`
}

// EventAttribute is one key and value of an event.
type EventAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Index bool   `json:"index"`
}

// BlockResult is a block with its id.
type BlockResult struct {
	BlockID BlockID `json:"block_id"`
	Block   Block   `json:"block"`
}

// Block is a header, its transactions and the commit of its parent.
// Evidence is not read.
type Block struct {
	Header     `json:"header"`
	Data       `json:"data"`
	LastCommit Commit `json:"last_commit"`
}

// Data is a block's transactions.
type Data struct {
	Txs [][]byte `json:"txs"`
}

// Header is a block header.
type Header struct {
	Version            Version   `json:"version"`
	ChainID            string    `json:"chain_id"`
	Height             int64     `json:"height,string"`
	Time               time.Time `json:"time"`
	LastBlockID        BlockID   `json:"last_block_id"`
	LastCommitHash     HexBytes  `json:"last_commit_hash"`
	DataHash           HexBytes  `json:"data_hash"`
	ValidatorsHash     HexBytes  `json:"validators_hash"`
	NextValidatorsHash HexBytes  `json:"next_validators_hash"`
	ConsensusHash      HexBytes  `json:"consensus_hash"`
	AppHash            HexBytes  `json:"app_hash"`
	LastResultsHash    HexBytes  `json:"last_results_hash"`
	EvidenceHash       HexBytes  `json:"evidence_hash"`
	ProposerAddress    HexBytes  `json:"proposer_address"`
}

// Version is the block and application protocol a header follows.
type Version struct {
	Block uint64 `json:"block,string"`
	App   uint64 `json:"app,string"`
}

// BlockID names a block: its header's hash and its part set.
type BlockID struct {
	Hash  HexBytes      `json:"hash"`
	Parts PartSetHeader `json:"parts"`
}

// PartSetHeader is the root of the parts a block is gossiped in.
type PartSetHeader struct {
	Total uint32   `json:"total"`
	Hash  HexBytes `json:"hash"`
}

// Commit is the validators' signatures of a block.
type Commit struct {
	Height     int64       `json:"height,string"`
	Round      int32       `json:"round"`
	BlockID    BlockID     `json:"block_id"`
	Signatures []CommitSig `json:"signatures"`
}

// CommitSig is one validator's part of a commit; BlockIDFlag says whether
// it signed the block (2), nil (3) or nothing (1).
type CommitSig struct {
	BlockIDFlag      int32     `json:"block_id_flag"`
	ValidatorAddress HexBytes  `json:"validator_address"`
	Timestamp        time.Time `json:"timestamp"`
	Signature        []byte    `json:"signature"`
}

// SignedHeader is a header with a commit for it.
type SignedHeader struct {
	Header Header `json:"header"`
	Commit Commit `json:"commit"`
}

// CommitResult is the answer to a commit call: Canonical is false for
// the newest block, whose commit may still gain signatures.
type CommitResult struct {
	SignedHeader SignedHeader `json:"signed_header"`
	Canonical    bool         `json:"canonical"`
}

// Validators is one page of a height's validator set.
type Validators struct {
	BlockHeight int64       `json:"block_height,string"`
	Validators  []Validator `json:"validators"`
	Count       int         `json:"count,string"`
	Total       int         `json:"total,string"`
}

// Validator is one member of a validator set.
type Validator struct {
	Address          HexBytes `json:"address"`
	PubKey           PubKey   `json:"pub_key"`
	VotingPower      int64    `json:"voting_power,string"`
	ProposerPriority int64    `json:"proposer_priority,string"`
}

// Blockchain is the answer to a blockchain call: headers newest first.
type Blockchain struct {
	LastHeight int64       `json:"last_height,string"`
	BlockMetas []BlockMeta `json:"block_metas"`
}

// BlockMeta is a header with its block's id and size.
type BlockMeta struct {
	BlockID   BlockID `json:"block_id"`
	BlockSize int     `json:"block_size,string"`
	Header    Header  `json:"header"`
	NumTxs    int     `json:"num_txs,string"`
}

// earliestTime is the first instant a protobuf Timestamp can hold
// (0001-01-01); RFC 3339 JSON can say year 0, which would not encode.
var earliestTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)

func checkTime(what string, t time.Time) error {
	if t.Before(earliestTime) {
		return fmt.Errorf("%s %v is before year 1", what, t)
	}
	return nil
}

func checkHeight(what string, h int64) error {
	if h < 0 {
		return fmt.Errorf("%s %d is negative", what, h)
	}
	return nil
}
