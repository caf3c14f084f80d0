package lightclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

// signers is a validator set with the private validators that sign for it,
// in the set's order.
type signers struct {
	set *cmttypes.ValidatorSet
	pvs []cmttypes.PrivValidator
}

// newSigners makes n validators of equal power; name seeds their keys so
// fuzz corpora stay meaningful between runs.
func newSigners(t testing.TB, name string, n int) *signers {
	t.Helper()
	byAddr := map[string]cmttypes.PrivValidator{}
	vals := make([]*cmttypes.Validator, n)
	for i := range vals {
		key := ed25519.GenPrivKeyFromSecret(fmt.Appendf(nil, "%s/%d", name, i))
		pv := cmttypes.NewMockPVWithParams(key, false, false)
		pk, err := pv.GetPubKey()
		if err != nil {
			t.Fatal(err)
		}
		vals[i] = cmttypes.NewValidator(pk, 10)
		byAddr[string(pk.Address())] = pv
	}
	set := cmttypes.NewValidatorSet(vals)
	s := &signers{set: set}
	for _, v := range set.Validators {
		s.pvs = append(s.pvs, byAddr[string(v.Address)])
	}
	return s
}

func (s *signers) proto(t testing.TB) []byte {
	t.Helper()
	vp, err := s.set.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	b, err := vp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testChain builds a CometBFT-shaped chain in memory: headers linked by
// block ids, app hashes computed from block digests with mq's formula,
// commits really signed by the validators.
type testChain struct {
	t       testing.TB
	id      string
	genesis *cmttypes.GenesisDoc
	headers []*cmttypes.Header // headers[h-1]
	digests []mq.Block         // digests[h] is block h's; [0] unused
	signBy  []*signers         // signBy[h-1] signs header h
	nextOf  []*signers         // nextOf[h-1] is the set header h names next
	cur     *signers
	pending *signers
}

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestChain(t testing.TB, chainID string, s *signers) *testChain {
	t.Helper()
	doc := &cmttypes.GenesisDoc{ChainID: chainID, GenesisTime: genesisTime, InitialHeight: 1}
	for _, v := range s.set.Validators {
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{Address: v.Address, PubKey: v.PubKey, Power: v.VotingPower})
	}
	return &testChain{t: t, id: chainID, genesis: doc, digests: []mq.Block{{}}, cur: s}
}

func (c *testChain) genesisState() State {
	c.t.Helper()
	st, err := GenesisState(genesisFromDoc(c.t, c.genesis))
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

// genesisFromDoc reads a CometBFT genesis document the way a node writes
// it to genesis.json.
func genesisFromDoc(t testing.TB, doc *cmttypes.GenesisDoc) *Genesis {
	t.Helper()
	raw, err := cmtjson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGenesis(raw)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// changeValidators makes the next header announce s as the set after it.
func (c *testChain) changeValidators(s *signers) { c.pending = s }

// digest is block h's effect: a state root, and zero to three messages.
func digest(h int64) mq.Block {
	w := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h)))
	b := mq.Block{Height: h, StateRoot: w[:]}
	for i := range h % 4 {
		b.Messages = append(b.Messages, mq.Message{Topic: "test.topic", Payload: []byte{byte(h), byte(i)}})
	}
	return b
}

func (c *testChain) height() int64 { return int64(len(c.headers)) }

// extend adds n headers.
func (c *testChain) extend(n int) *testChain {
	for range n {
		c.add()
	}
	return c
}

func (c *testChain) add() {
	h := c.height() + 1
	vs, next := c.cur, c.cur
	if c.pending != nil {
		next, c.pending = c.pending, nil
	}
	hdr := &cmttypes.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol},
		ChainID:            c.id,
		Height:             h,
		Time:               genesisTime.Add(time.Duration(h-1) * time.Second),
		ValidatorsHash:     vs.set.Hash(),
		NextValidatorsHash: next.set.Hash(),
		ConsensusHash:      tmhash.Sum([]byte("consensus params")),
		ProposerAddress:    vs.set.Validators[0].Address,
	}
	if h == 1 {
		hdr.AppHash = tmhash.Sum([]byte("genesis state"))
	} else {
		prev := c.headers[h-2]
		hdr.LastBlockID = blockID(prev)
		app, err := c.digests[h-1].AppHash(c.id, prev.AppHash)
		if err != nil {
			c.t.Fatal(err)
		}
		hdr.AppHash = app
	}
	c.headers = append(c.headers, hdr)
	c.digests = append(c.digests, digest(h))
	c.signBy = append(c.signBy, vs)
	c.nextOf = append(c.nextOf, next)
	c.cur = next
}

func blockID(h *cmttypes.Header) cmttypes.BlockID {
	hash := h.Hash()
	return cmttypes.BlockID{Hash: hash, PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: tmhash.Sum(hash)}}
}

func (c *testChain) header(h int64) *cmttypes.Header { return c.headers[h-1] }

// commit signs header h (as given, possibly forged) with the keys of pvs;
// a nil entry is an absent validator.
func (c *testChain) commitWith(hdr *cmttypes.Header, pvs []cmttypes.PrivValidator) *cmttypes.Commit {
	c.t.Helper()
	bid := blockID(hdr)
	cm := &cmttypes.Commit{Height: hdr.Height, BlockID: bid}
	for i, pv := range pvs {
		if pv == nil {
			cm.Signatures = append(cm.Signatures, cmttypes.NewCommitSigAbsent())
			continue
		}
		pk, err := pv.GetPubKey()
		if err != nil {
			c.t.Fatal(err)
		}
		vote := &cmttypes.Vote{
			Type: cmttypes.PrecommitType, Height: hdr.Height, BlockID: bid,
			Timestamp:        hdr.Time.Add(500 * time.Millisecond),
			ValidatorAddress: pk.Address(), ValidatorIndex: int32(i),
		}
		vp := vote.ToProto()
		if err := pv.SignVote(c.id, vp, false); err != nil {
			c.t.Fatal(err)
		}
		cm.Signatures = append(cm.Signatures, cmttypes.CommitSig{
			BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: pk.Address(),
			Timestamp: vote.Timestamp, Signature: vp.Signature,
		})
	}
	return cm
}

func (c *testChain) commit(h int64) *cmttypes.Commit {
	return c.commitWith(c.header(h), c.signBy[h-1].pvs)
}

func encodeHeader(t testing.TB, h *cmttypes.Header) []byte {
	t.Helper()
	b, err := h.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeCommit(t testing.TB, c *cmttypes.Commit) []byte {
	t.Helper()
	b, err := c.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (c *testChain) parent(h int64) mq.Block {
	if h == 1 {
		return mq.Block{}
	}
	return c.digests[h-1]
}

// batch is what an honest relay sends for headers from..to.
func (c *testChain) batch(from, to int64) relaywire.Batch {
	c.t.Helper()
	b := relaywire.Batch{Version: relaywire.Version, Commit: encodeCommit(c.t, c.commit(to))}
	for h := from; h <= to; h++ {
		b.Blocks = append(b.Blocks, relaywire.Block{Header: encodeHeader(c.t, c.header(h)), Parent: c.parent(h)})
	}
	if last := c.header(to); !bytes.Equal(last.NextValidatorsHash, last.ValidatorsHash) {
		b.NextValidators = c.nextOf[to-1].proto(c.t)
	}
	return b
}

// syncTo verifies the chain from genesis to height h in one batch.
func (c *testChain) syncTo(h int64) State {
	c.t.Helper()
	st, _, err := Verify(c.genesisState(), c.batch(1, h))
	if err != nil {
		c.t.Fatalf("sync to %d: %v", h, err)
	}
	return st
}
