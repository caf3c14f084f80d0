// Package chaingen generates CometBFT chains signed by real validator keys,
// with the app hashes our application would commit, for tests and
// benchmarks of the enclave's chain sync: a relay-shaped source of headers,
// commits and message digests without running consensus. Nothing here is
// used by a node; it is the fixture that lets a benchmark replay 10,000
// blocks in seconds.
package chaingen

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

// Chain is a generated chain: block h's header is headers[h-1], and its
// digest (writes hash and message list) digests[h-1].
type Chain struct {
	ChainID string
	Genesis *cmttypes.GenesisDoc

	pvs     []cmttypes.PrivValidator
	vals    *cmttypes.ValidatorSet
	headers []*cmttypes.Header
	digests []mq.Block
	commits map[int64]*cmttypes.Commit
	appHash []byte // after the last added block
	start   time.Time
}

// New makes a chain of n equal-power validators whose genesis carries
// appState (the application's genesis JSON) and whose genesis state has
// app hash genesisAppHash (what InitChain would answer; any bytes will do
// for an enclave, which takes it from header 1).
func New(chainID string, n int, appState json.RawMessage, genesisAppHash []byte) (*Chain, error) {
	c := &Chain{ChainID: chainID, commits: map[int64]*cmttypes.Commit{}, appHash: genesisAppHash, start: time.Unix(1_700_000_000, 0).UTC()}
	var gvals []cmttypes.GenesisValidator
	var vals []*cmttypes.Validator
	for i := 0; i < n; i++ {
		pv := cmttypes.NewMockPV()
		pub, err := pv.GetPubKey()
		if err != nil {
			return nil, err
		}
		c.pvs = append(c.pvs, pv)
		vals = append(vals, cmttypes.NewValidator(pub, 10))
		gvals = append(gvals, cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: fmt.Sprintf("v%d", i)})
	}
	c.vals = cmttypes.NewValidatorSet(vals)
	c.Genesis = &cmttypes.GenesisDoc{ChainID: chainID, GenesisTime: c.start, Validators: gvals, AppState: appState, InitialHeight: 1}
	if err := c.Genesis.ValidateAndComplete(); err != nil {
		return nil, err
	}
	// The validator set orders by power then address: keep pvs in its order.
	ordered := make([]cmttypes.PrivValidator, len(c.pvs))
	for _, pv := range c.pvs {
		pub, _ := pv.GetPubKey()
		idx, _ := c.vals.GetByAddress(pub.Address())
		ordered[idx] = pv
	}
	c.pvs = ordered
	return c, nil
}

// Height is the last block added.
func (c *Chain) Height() int64 { return int64(len(c.headers)) }

// Validators is the (fixed) validator set.
func (c *Chain) Validators() *cmttypes.ValidatorSet { return c.vals }

// Add appends a block publishing msgs, with a generated state root (every
// block writes state, so every block moves the app hash).
func (c *Chain) Add(msgs []mq.Message) error {
	h := c.Height() + 1
	hdr := c.header(h)
	c.headers = append(c.headers, hdr)
	root := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("chaingen state"), uint64(h)))
	d := mq.Block{Height: h, StateRoot: root[:], Messages: msgs}
	next, err := d.AppHash(c.ChainID, c.appHash)
	if err != nil {
		return err
	}
	c.digests = append(c.digests, d)
	c.appHash = next
	return nil
}

func (c *Chain) header(h int64) *cmttypes.Header {
	hash := func(label string) []byte {
		s := sha256.Sum256(fmt.Appendf(nil, "%s/%d", label, h))
		return s[:]
	}
	hdr := &cmttypes.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol, App: 1},
		ChainID:            c.ChainID,
		Height:             h,
		Time:               c.start.Add(time.Duration(h) * time.Second),
		LastCommitHash:     hash("last-commit"),
		DataHash:           tmhash.Sum(nil),
		ValidatorsHash:     c.vals.Hash(),
		NextValidatorsHash: c.vals.Hash(),
		ConsensusHash:      hash("consensus"),
		AppHash:            c.appHash,
		LastResultsHash:    hash("results"),
		EvidenceHash:       tmhash.Sum(nil),
		ProposerAddress:    c.vals.Validators[int(h)%c.vals.Size()].Address,
	}
	if h > 1 {
		hdr.LastBlockID = c.blockID(h - 1)
	}
	return hdr
}

func (c *Chain) blockID(h int64) cmttypes.BlockID {
	parts := sha256.Sum256(fmt.Appendf(nil, "parts/%d", h))
	return cmttypes.BlockID{Hash: c.headers[h-1].Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: parts[:]}}
}

// Header returns block h's header.
func (c *Chain) Header(h int64) *cmttypes.Header { return c.headers[h-1] }

// Digest returns block h's digest.
func (c *Chain) Digest(h int64) mq.Block { return c.digests[h-1] }

// Commit signs (once) and returns the commit for block h.
func (c *Chain) Commit(h int64) (*cmttypes.Commit, error) {
	if cm, ok := c.commits[h]; ok {
		return cm, nil
	}
	id := c.blockID(h)
	ts := c.headers[h-1].Time.Add(500 * time.Millisecond)
	cm := &cmttypes.Commit{Height: h, BlockID: id}
	for i, pv := range c.pvs {
		val := c.vals.Validators[i]
		v := &cmttypes.Vote{Type: cmttypes.PrecommitType, Height: h, BlockID: id, Timestamp: ts, ValidatorAddress: val.Address, ValidatorIndex: int32(i)}
		pb := v.ToProto()
		if err := pv.SignVote(c.ChainID, pb, false); err != nil {
			return nil, err
		}
		cm.Signatures = append(cm.Signatures, cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: val.Address, Timestamp: ts, Signature: pb.Signature})
	}
	c.commits[h] = cm
	return cm, nil
}

// Batch is blocks from..to (inclusive) as a relay would hand them over,
// closed by the commit of block to. Block to's own digest is proven only by
// header to+1, so it is not final after this batch.
func (c *Chain) Batch(from, to int64) (relaywire.Batch, error) {
	if from < 1 || to < from || to > c.Height() {
		return relaywire.Batch{}, fmt.Errorf("chaingen: batch %d..%d of a chain of %d", from, to, c.Height())
	}
	b := relaywire.Batch{Version: relaywire.Version}
	for h := from; h <= to; h++ {
		raw, err := c.headers[h-1].ToProto().Marshal()
		if err != nil {
			return b, err
		}
		blk := relaywire.Block{Header: raw}
		if h > 1 {
			blk.Parent = c.digests[h-2]
		}
		b.Blocks = append(b.Blocks, blk)
	}
	cm, err := c.Commit(to)
	if err != nil {
		return b, err
	}
	if b.Commit, err = cm.ToProto().Marshal(); err != nil {
		return b, err
	}
	return b, nil
}
