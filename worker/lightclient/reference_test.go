package lightclient

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/cmtwire"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

// This file is the reference the light client is checked against: the same
// rules as Verify, with every CometBFT computation (header decoding and
// validation, header and validator-set hashes, vote sign bytes, commit
// verification) done by CometBFT's own types package, which the enclave no
// longer links. Tests run both on the same input and require the same
// verdict, and the same state and blocks when both accept.

// referenceVerify is Verify built on cometbft/types.
func referenceVerify(st State, b relaywire.Batch) (State, []Final, error) {
	if b.Version != relaywire.Version || len(b.Blocks) == 0 {
		return st, nil, errors.New("bad version or empty batch")
	}
	vals, err := referenceDecodeValidators(st.Validators)
	if err != nil {
		return st, nil, err
	}
	headers := make([]cmttypes.Header, len(b.Blocks))
	for i, blk := range b.Blocks {
		if headers[i], err = referenceDecodeHeader(blk.Header); err != nil {
			return st, nil, err
		}
	}
	cur := tip{height: st.Height, hash: st.BlockHash, time: time.Unix(0, st.Time).UTC(), appHash: st.AppHash}
	var finals []Final
	for i := range headers {
		h := &headers[i]
		f, ok, err := referenceStep(st.ChainID, cur, h, vals.Hash(), i == len(headers)-1, b.Blocks[i].Parent)
		if err != nil {
			return st, nil, err
		}
		if ok {
			finals = append(finals, f)
		}
		cur = tip{height: h.Height, hash: h.Hash(), time: h.Time, appHash: h.AppHash}
	}
	last := &headers[len(headers)-1]
	if err := referenceCheckCommit(st.ChainID, vals, last, cur.hash, b.Commit); err != nil {
		return st, nil, err
	}
	next, err := referenceNextValidators(st.Validators, last, b.NextValidators)
	if err != nil {
		return st, nil, err
	}
	return State{ChainID: st.ChainID, Height: cur.height, BlockHash: bytes.Clone(cur.hash), Time: cur.time.UnixNano(),
		AppHash: bytes.Clone(cur.appHash), Validators: next}, finals, nil
}

func referenceDecodeHeader(b []byte) (cmttypes.Header, error) {
	var ph cmtproto.Header
	if err := ph.Unmarshal(b); err != nil {
		return cmttypes.Header{}, err
	}
	h, err := cmttypes.HeaderFromProto(&ph)
	if err != nil {
		return cmttypes.Header{}, err
	}
	if !inNanoRange(h.Time) {
		return cmttypes.Header{}, errors.New("time out of range")
	}
	h.Time = h.Time.UTC()
	return h, nil
}

// referenceStep checks one header against the one before it and its
// parent digest against the app hash it carries.
func referenceStep(chainID string, prev tip, h *cmttypes.Header, valHash []byte, last bool, p mq.Block) (Final, bool, error) {
	switch {
	case h.ChainID != chainID:
		return Final{}, false, errors.New("chain id")
	case h.Height != prev.height+1:
		return Final{}, false, errors.New("height")
	case !bytes.Equal(h.ValidatorsHash, valHash):
		return Final{}, false, errors.New("validators hash")
	case !last && !bytes.Equal(h.NextValidatorsHash, h.ValidatorsHash):
		return Final{}, false, errors.New("set change mid-batch")
	}
	if h.Height == 1 {
		if len(h.LastBlockID.Hash) != 0 || h.Time.Before(prev.time) {
			return Final{}, false, errors.New("first block link or time")
		}
		if p.Height != 0 || len(p.StateRoot) != 0 || len(p.Messages) != 0 {
			return Final{}, false, errors.New("first block parent")
		}
		return Final{}, false, nil
	}
	if !bytes.Equal(h.LastBlockID.Hash, prev.hash) || !h.Time.After(prev.time) {
		return Final{}, false, errors.New("link or time")
	}
	if p.Height != h.Height-1 {
		return Final{}, false, errors.New("parent height")
	}
	app, err := p.AppHash(chainID, prev.appHash)
	if err != nil || !bytes.Equal(app, h.AppHash) {
		return Final{}, false, fmt.Errorf("app hash: %v", err)
	}
	return Final{Height: prev.height, Hash: bytes.Clone(prev.hash), Time: prev.time, Messages: p.Messages}, true, nil
}

func referenceCheckCommit(chainID string, vals *cmttypes.ValidatorSet, last *cmttypes.Header, lastHash, raw []byte) error {
	var cp cmtproto.Commit
	if err := cp.Unmarshal(raw); err != nil {
		return err
	}
	c, err := cmttypes.CommitFromProto(&cp)
	if err != nil {
		return err
	}
	if c.Height != last.Height || !bytes.Equal(c.BlockID.Hash, lastHash) {
		return errors.New("commit for another block")
	}
	return vals.VerifyCommitLight(chainID, c.BlockID, last.Height, c)
}

func referenceNextValidators(known []byte, last *cmttypes.Header, raw []byte) ([]byte, error) {
	if bytes.Equal(last.NextValidatorsHash, last.ValidatorsHash) {
		if len(raw) != 0 {
			return nil, errors.New("next validators without a change")
		}
		return known, nil
	}
	set, err := referenceDecodeValidators(raw)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(set.Hash(), last.NextValidatorsHash) {
		return nil, errors.New("next validators hash")
	}
	return referenceEncodeValidators(set)
}

// referenceDecodeValidators checks what CometBFT's decoder dereferences or
// panics on, then lets ValidatorSetFromProto build the set.
func referenceDecodeValidators(b []byte) (*cmttypes.ValidatorSet, error) {
	var vp cmtproto.ValidatorSet
	if err := vp.Unmarshal(b); err != nil {
		return nil, err
	}
	if len(vp.Validators) == 0 || len(vp.Validators) > maxValidators {
		return nil, errors.New("set size")
	}
	var total int64
	for _, v := range vp.Validators {
		if v == nil || (v.PubKeyType == "" && v.PubKey == nil) {
			return nil, errors.New("no key")
		}
		if err := cmtwire.CheckPower(v.VotingPower, total); err != nil {
			return nil, err
		}
		total += v.VotingPower
		if v.PubKeyType == "" {
			pk, err := cryptoenc.PubKeyFromProto(*v.PubKey)
			if err != nil {
				return nil, err
			}
			v.PubKeyType, v.PubKeyBytes, v.PubKey = pk.Type(), pk.Bytes(), nil
		}
		v.ProposerPriority = 0
	}
	first := *vp.Validators[0]
	vp.Proposer = &first
	return cmttypes.ValidatorSetFromProto(&vp)
}

// referenceEncodeValidators is the State encoding of a set, built from
// CometBFT's own Validator.ToProto.
func referenceEncodeValidators(set *cmttypes.ValidatorSet) ([]byte, error) {
	vp := &cmtproto.ValidatorSet{}
	for _, v := range set.Validators {
		p, err := v.ToProto()
		if err != nil {
			return nil, err
		}
		p.ProposerPriority = 0
		vp.Validators = append(vp.Validators, p)
	}
	first := *vp.Validators[0]
	vp.Proposer = &first
	return vp.Marshal()
}

func referenceStateValidators(t testing.TB, set *cmttypes.ValidatorSet) []byte {
	t.Helper()
	b, err := referenceEncodeValidators(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyBoth runs Verify and the reference on the same input and fails the
// test unless they agree: both refuse, or both accept with the same state
// and the same final blocks. It returns Verify's answer.
func verifyBoth(t testing.TB, st State, b relaywire.Batch) (State, []Final, error) {
	t.Helper()
	got, finals, err := Verify(cloneState(st), cloneBatch(b))
	want, wantFinals, wantErr := referenceVerify(cloneState(st), cloneBatch(b))
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("verdicts differ: light client %v, CometBFT reference %v", err, wantErr)
	}
	if err == nil && (!reflect.DeepEqual(got, want) || !equalFinals(finals, wantFinals)) {
		t.Fatalf("both accept, with different results:\n%+v\n%+v", got, want)
	}
	return got, finals, err
}

// cloneBatch deep-copies the byte fields a verifier could alias, so one
// verifier cannot influence the other through shared memory.
func cloneBatch(b relaywire.Batch) relaywire.Batch {
	out := relaywire.Batch{Version: b.Version, Commit: bytes.Clone(b.Commit), NextValidators: bytes.Clone(b.NextValidators)}
	for _, blk := range b.Blocks {
		p := blk.Parent
		p.StateRoot = bytes.Clone(p.StateRoot)
		p.Messages = append([]mq.Message(nil), p.Messages...)
		out.Blocks = append(out.Blocks, relaywire.Block{Header: bytes.Clone(blk.Header), Parent: p})
	}
	return out
}

func equalFinals(a, b []Final) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Height != y.Height || !bytes.Equal(x.Hash, y.Hash) || !x.Time.Equal(y.Time) || !reflect.DeepEqual(x.Messages, y.Messages) {
			return false
		}
	}
	return true
}
