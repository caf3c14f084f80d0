package lightclient

import (
	"bytes"
	"time"

	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

// Final is a block whose message list is proven by a verified header.
type Final struct {
	Height   int64
	Hash     []byte
	Time     time.Time
	Messages []mq.Message
}

// tip is the last header accepted so far while a batch is walked.
type tip struct {
	height  int64
	hash    []byte
	time    time.Time
	appHash []byte
}

// Verify checks batch b against st and returns the state after it and the
// blocks it finalises, in height order. On error st is still the caller's
// state: nothing of b is accepted unless all of it is.
func Verify(st State, b relaywire.Batch) (State, []Final, error) {
	if b.Version != relaywire.Version {
		return st, nil, ErrMalformed.Wrapf("batch version %d, want %d", b.Version, relaywire.Version)
	}
	if len(b.Blocks) == 0 {
		return st, nil, ErrMalformed.Wrapf("batch has no blocks")
	}
	vals, err := decodeValidators(st.Validators)
	if err != nil {
		return st, nil, ErrState.Wrapf("%v", err)
	}
	headers, err := decodeHeaders(b.Blocks, st.Height)
	if err != nil {
		return st, nil, err
	}
	cur, finals, err := walk(st, vals.hash(), headers, b.Blocks)
	if err != nil {
		return st, nil, err
	}
	last := &headers[len(headers)-1]
	if err := checkCommit(st.ChainID, vals, last, cur.hash, b.Commit); err != nil {
		return st, nil, err
	}
	next, err := nextValidators(st.Validators, last, b.NextValidators)
	if err != nil {
		return st, nil, err
	}
	return State{
		ChainID:    st.ChainID,
		Height:     cur.height,
		BlockHash:  bytes.Clone(cur.hash),
		Time:       cur.time.UnixNano(),
		AppHash:    bytes.Clone(cur.appHash),
		Validators: next,
	}, finals, nil
}

// walk checks the headers in order from the state's tip, and each one's
// parent digest, returning the new tip and the blocks proven final.
func walk(st State, valHash []byte, headers []header, blocks []relaywire.Block) (tip, []Final, error) {
	cur := tip{height: st.Height, hash: st.BlockHash, time: time.Unix(0, st.Time).UTC(), appHash: st.AppHash}
	finals := make([]Final, 0, len(headers))
	for i := range headers {
		h := &headers[i]
		if err := checkHeader(st.ChainID, cur, h, valHash, i == len(headers)-1); err != nil {
			return tip{}, nil, err
		}
		f, ok, err := checkParent(st.ChainID, cur, blocks[i].Parent, h)
		if err != nil {
			return tip{}, nil, err
		}
		if ok {
			finals = append(finals, f)
		}
		cur = tip{height: h.Height, hash: h.hash(), time: h.time, appHash: h.AppHash}
	}
	return cur, finals, nil
}

// decodeHeaders parses and basically validates every header. after is the
// last verified height, for messages only.
func decodeHeaders(blocks []relaywire.Block, after int64) ([]header, error) {
	out := make([]header, len(blocks))
	for i, blk := range blocks {
		h, err := decodeHeader(blk.Header)
		if err != nil {
			return nil, ErrMalformed.Wrapf("header %d of the batch (after height %d): %v", i, after, err)
		}
		out[i] = h
	}
	return out, nil
}

// checkHeader checks h against the header before it and the known set.
func checkHeader(chainID string, prev tip, h *header, valHash []byte, last bool) error {
	if h.ChainID != chainID {
		return ErrWrongChain.Wrapf("header %d is for chain %q, want %q", h.Height, h.ChainID, chainID)
	}
	if h.Height != prev.height+1 {
		return ErrWrongHeight.Wrapf("got header %d, want %d (last verified %d)", h.Height, prev.height+1, prev.height)
	}
	if err := checkLink(prev, h); err != nil {
		return err
	}
	if !bytes.Equal(h.ValidatorsHash, valHash) {
		return ErrValidatorSet.Wrapf("header %d is signed by set %s, want the known set %s", h.Height, short(h.ValidatorsHash), short(valHash))
	}
	if !last && !bytes.Equal(h.NextValidatorsHash, h.ValidatorsHash) {
		return ErrValidatorSet.Wrapf("header %d changes the validator set to %s mid-batch; it must end the batch", h.Height, short(h.NextValidatorsHash))
	}
	return nil
}

// checkLink checks the parent hash and the time against the previous header
// (the genesis for height 1, whose block time CometBFT sets to the genesis
// time).
func checkLink(prev tip, h *header) error {
	if h.Height == 1 {
		if len(h.LastBlockId.Hash) != 0 {
			return ErrBrokenLink.Wrapf("header 1 names parent %s, but the first block has none", short(h.LastBlockId.Hash))
		}
		if h.time.Before(prev.time) {
			return ErrTime.Wrapf("header 1 time %v is before the genesis time %v", h.time, prev.time)
		}
		return nil
	}
	if !bytes.Equal(h.LastBlockId.Hash, prev.hash) {
		return ErrBrokenLink.Wrapf("header %d names parent %s, but header %d is %s", h.Height, short(h.LastBlockId.Hash), prev.height, short(prev.hash))
	}
	if !h.time.After(prev.time) {
		return ErrTime.Wrapf("header %d time %v is not after header %d time %v", h.Height, h.time, prev.height, prev.time)
	}
	return nil
}

// checkParent checks the digest of block h-1 against the app hash header h
// carries and returns block h-1 as final. Height 1's parent is the genesis
// state: nothing to finalise, and its app hash is taken as signed.
func checkParent(chainID string, prev tip, p mq.Block, h *header) (Final, bool, error) {
	if h.Height == 1 {
		if p.Height != 0 || len(p.StateRoot) != 0 || len(p.Messages) != 0 {
			return Final{}, false, ErrParent.Wrapf("header 1 has no parent block, but the batch gives one (height %d, %d messages)", p.Height, len(p.Messages))
		}
		return Final{}, false, nil
	}
	if p.Height != h.Height-1 {
		return Final{}, false, ErrParent.Wrapf("header %d comes with the digest of block %d, want %d", h.Height, p.Height, h.Height-1)
	}
	got, err := p.AppHash(chainID, prev.appHash)
	if err != nil {
		return Final{}, false, ErrParent.Wrapf("digest of block %d: %v", p.Height, err)
	}
	if !bytes.Equal(got, h.AppHash) {
		return Final{}, false, ErrAppHash.Wrapf("digest of block %d gives app hash %s, header %d carries %s", p.Height, short(got), h.Height, short(h.AppHash))
	}
	return Final{Height: prev.height, Hash: bytes.Clone(prev.hash), Time: prev.time, Messages: p.Messages}, true, nil
}

// checkCommit checks that more than 2/3 of vals signed the last header.
func checkCommit(chainID string, vals *validatorSet, last *header, lastHash, raw []byte) error {
	c, err := decodeCommit(raw)
	if err != nil {
		return ErrMalformed.Wrapf("commit for header %d: %v", last.Height, err)
	}
	if c.Height != last.Height {
		return ErrBadCommit.Wrapf("commit is for height %d, the batch ends at %d", c.Height, last.Height)
	}
	if !bytes.Equal(c.BlockID.Hash, lastHash) {
		return ErrBadCommit.Wrapf("commit is for block %s, header %d is %s", short(c.BlockID.Hash), last.Height, short(lastHash))
	}
	if err := verifyCommit(chainID, vals, c); err != nil {
		return ErrBadCommit.Wrapf("header %d: %v", last.Height, err)
	}
	return nil
}

// nextValidators is the set that signs the header after last: the known one
// unless last announces a change, which the batch must then carry.
func nextValidators(known []byte, last *header, raw []byte) ([]byte, error) {
	if bytes.Equal(last.NextValidatorsHash, last.ValidatorsHash) {
		if len(raw) != 0 {
			return nil, ErrValidatorSet.Wrapf("batch carries next validators, but header %d keeps the set", last.Height)
		}
		return known, nil
	}
	if len(raw) == 0 {
		return nil, ErrValidatorSet.Wrapf("header %d changes the validator set to %s, but the batch carries no next validators", last.Height, short(last.NextValidatorsHash))
	}
	set, err := decodeValidators(raw)
	if err != nil {
		return nil, ErrMalformed.Wrapf("next validators after header %d: %v", last.Height, err)
	}
	if got := set.hash(); !bytes.Equal(got, last.NextValidatorsHash) {
		return nil, ErrValidatorSet.Wrapf("header %d names next set %s, the batch carries %s", last.Height, short(last.NextValidatorsHash), short(got))
	}
	out, err := set.encode()
	if err != nil {
		return nil, ErrMalformed.Wrapf("next validators after header %d: %v", last.Height, err)
	}
	return out, nil
}
