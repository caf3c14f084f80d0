// Package proof is how the chain proves a piece of its state to someone who
// trusts nothing but a block header: an ICS-23 proof that a key has a value
// (or none) under the state tree's root, then the step from that root to
// the app hash the header carries. The application makes proofs; clients
// check them against a header a light client verified. Its types mirror
// CometBFT's ProofOp so that clients link no CometBFT.
package proof

import (
	"bytes"
	"fmt"

	ics23 "github.com/cosmos/ics23/go"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
)

// Proof operation types, in the order a proof applies them.
const (
	// OpState proves a key's value, or its absence, under the state root
	// (Data: a protobuf ics23.CommitmentProof; Key: the state key).
	OpState = "phala:state/ics23-iavl"
	// OpAppHash climbs from the state root to the app hash (Data: a CBOR
	// AppHashStep).
	OpAppHash = "phala:apphash"
)

// MaxOpData bounds one operation's data: an IAVL proof over any state this
// chain can hold is a few kilobytes.
const MaxOpData = 64 << 10

const module = "proof"

// Errors a proof check returns; each names what did not hold.
var (
	ErrMalformed = errs.Register(module, 1, "malformed proof")
	ErrMismatch  = errs.Register(module, 2, "proof does not match the answer")
	ErrAppHash   = errs.Register(module, 3, "proof does not lead to the trusted app hash")
)

// Op is one step of a proof (CometBFT's crypto.ProofOp, field for field).
type Op struct {
	Type string
	Key  []byte
	Data []byte
}

// AppHashStep is what the app hash of a height commits to besides the
// state root: the app hash before it and the root of the height's message
// list for enclaves (see mq.Block.AppHash).
type AppHashStep struct {
	_            struct{} `cbor:",toarray"`
	Height       int64
	PrevAppHash  []byte
	MessagesRoot []byte
}

// Make builds the proof of key's value (nil: absent) at height from the
// state tree's commitment proof and the height's app-hash step.
func Make(key []byte, p *ics23.CommitmentProof, step AppHashStep) ([]Op, error) {
	data, err := p.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode state proof: %w", err)
	}
	return []Op{
		{Type: OpState, Key: bytes.Clone(key), Data: data},
		{Type: OpAppHash, Data: codec.MustMarshal(step)},
	}, nil
}

// Verify checks that key has value (nil: that key is absent) in the state
// after height, on chain chainID, given appHash: the app hash that header
// height+1 carries, which the caller must have verified.
func Verify(chainID string, appHash []byte, height int64, key, value []byte, ops []Op) error {
	if len(ops) != 2 || ops[0].Type != OpState || ops[1].Type != OpAppHash {
		return ErrMalformed.Wrapf("want the operations %s then %s, got %s", OpState, OpAppHash, opTypes(ops))
	}
	if !bytes.Equal(ops[0].Key, key) {
		return ErrMismatch.Wrapf("the proof is for key %x, the answer for key %x", ops[0].Key, key)
	}
	// The height first: a proof taken at another height usually fails the
	// value check too, and the height is the clearer reason.
	step, err := decodeStep(ops[1].Data)
	if err != nil {
		return err
	}
	if step.Height != height {
		return ErrMismatch.Wrapf("the proof is for height %d, the answer for height %d", step.Height, height)
	}
	root, err := stateRoot(ops[0].Data, key, value)
	if err != nil {
		return err
	}
	got := mq.NextAppHash(chainID, step.PrevAppHash, root, step.MessagesRoot)
	if !bytes.Equal(got, appHash) {
		return ErrAppHash.Wrapf("the proof gives app hash %X at height %d, the verified header carries %X", got, height, appHash)
	}
	return nil
}

// stateRoot checks the ICS-23 proof of key's value (or absence) and returns
// the root it proves it under. ics23 panics on some malformed proofs, which
// must not end the client.
func stateRoot(data, key, value []byte) (root []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, ErrMalformed.Wrapf("state proof: %v", r)
		}
	}()
	if len(data) == 0 || len(data) > MaxOpData {
		return nil, ErrMalformed.Wrapf("state proof is %d bytes (1 to %d)", len(data), MaxOpData)
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(data); err != nil {
		return nil, ErrMalformed.Wrapf("state proof: %v", err)
	}
	if root, err = calculate(&p); err != nil {
		return nil, err
	}
	if value == nil {
		if p.GetNonexist() == nil {
			return nil, ErrMismatch.Wrapf("the answer says key %x is absent, the proof says it is present", key)
		}
		if !ics23.VerifyNonMembership(ics23.IavlSpec, root, &p, key) {
			return nil, ErrMismatch.Wrapf("the proof does not show key %x absent", key)
		}
		return root, nil
	}
	if p.GetExist() == nil {
		return nil, ErrMismatch.Wrapf("the answer gives key %x a value, the proof says it is absent", key)
	}
	if !ics23.VerifyMembership(ics23.IavlSpec, root, &p, key, value) {
		return nil, ErrMismatch.Wrapf("the proof does not give key %x the value answered", key)
	}
	return root, nil
}

// calculate is the root a proof climbs to.
func calculate(p *ics23.CommitmentProof) ([]byte, error) {
	root, err := p.Calculate()
	if err != nil {
		return nil, ErrMalformed.Wrapf("state proof: %v", err)
	}
	if len(root) != 32 {
		return nil, ErrMalformed.Wrapf("state proof gives a %d-byte root", len(root))
	}
	return root, nil
}

func decodeStep(data []byte) (AppHashStep, error) {
	var s AppHashStep
	if len(data) > MaxOpData {
		return s, ErrMalformed.Wrapf("app hash step is %d bytes", len(data))
	}
	if err := codec.Unmarshal(data, &s); err != nil {
		return s, ErrMalformed.Wrapf("app hash step: %v", err)
	}
	if len(s.MessagesRoot) != 32 || (s.PrevAppHash != nil && len(s.PrevAppHash) != 32) {
		return s, ErrMalformed.Wrapf("app hash step: messages root %d bytes, previous app hash %d bytes", len(s.MessagesRoot), len(s.PrevAppHash))
	}
	return s, nil
}

func opTypes(ops []Op) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.Type
	}
	return out
}
