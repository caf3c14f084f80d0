package proof_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/proof"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

const chainID = "proof-test"

var item = state.NewKeyFormat(0x7e, 0x01)

func key(s string) []byte { return item.Key([]byte(s)) }

// fixture is a store with a few heights of state, each with its app hash
// computed the way the application computes it.
type fixture struct {
	s        *store.Store
	appHash  map[int64][]byte
	messages map[int64][]mq.Message
}

func newFixture(t *testing.T, heights int64) *fixture {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{s: s, appHash: map[int64][]byte{}, messages: map[int64][]mq.Message{}}
	var prev []byte
	for h := int64(0); h <= heights; h++ {
		changes := []state.Change{{Key: key(fmt.Sprint("k", h)), Value: []byte(fmt.Sprint("v", h))}, {Key: key("shared"), Value: []byte(fmt.Sprint("s", h))}}
		for i := range 100 { // enough keys for proofs of some depth
			changes = append(changes, state.Change{Key: key(fmt.Sprintf("fill-%d-%d", h, i)), Value: []byte{byte(i)}})
		}
		root, err := s.Stage(changes)
		if err != nil {
			t.Fatal(err)
		}
		d := mq.Block{Height: h, StateRoot: root}
		if h%2 == 1 {
			d.Messages = []mq.Message{{Topic: "t", Payload: []byte{byte(h)}}}
		}
		hash, err := d.AppHash(chainID, prev)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(store.Meta{Height: h, AppHash: hash}, nil); err != nil {
			t.Fatal(err)
		}
		f.appHash[h], f.messages[h], prev = hash, d.Messages, hash
	}
	return f
}

// prove is what the application answers for key at height.
func (f *fixture) prove(t *testing.T, height int64, k []byte) ([]byte, []proof.Op) {
	t.Helper()
	value, p, err := f.s.Proof(height, k)
	if err != nil {
		t.Fatal(err)
	}
	step := proof.AppHashStep{Height: height, PrevAppHash: f.appHash[height-1]}
	root := mq.Root(chainID, f.messages[height])
	step.MessagesRoot = root[:]
	ops, err := proof.Make(k, p, step)
	if err != nil {
		t.Fatal(err)
	}
	return value, ops
}

func TestVerifyHonestAnswers(t *testing.T) {
	f := newFixture(t, 4)
	for _, tc := range []struct {
		name   string
		height int64
		key    string
		want   []byte
	}{
		{"present", 3, "k2", []byte("v2")},
		{"overwritten", 2, "shared", []byte("s2")},
		{"absent", 3, "k9", nil},
		{"genesis", 0, "k0", []byte("v0")},
		{"absent below every key", 4, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value, ops := f.prove(t, tc.height, key(tc.key))
			if !bytes.Equal(value, tc.want) {
				t.Fatalf("value %q, want %q", value, tc.want)
			}
			if err := proof.Verify(chainID, f.appHash[tc.height], tc.height, key(tc.key), value, ops); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVerifyRefusesForgeries: each way an untrusted node could alter an
// answer is refused, with the error that names it.
func TestVerifyRefusesForgeries(t *testing.T) {
	f := newFixture(t, 4)
	const h = 3
	k := key("k2")
	for _, tc := range []struct {
		name  string
		forge func(value []byte, ops []proof.Op) (height int64, key, v []byte, out []proof.Op)
		want  error
	}{
		{"forged value", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			return h, k, []byte("v9"), ops
		}, proof.ErrMismatch},
		{"value said absent", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			return h, k, nil, ops
		}, proof.ErrMismatch},
		{"proof for another key", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			other, otherOps := f.prove(t, h, key("k1"))
			otherOps[0].Key = k // relabelled
			return h, k, other, otherOps
		}, proof.ErrMismatch},
		{"proof labelled for another key", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			other, otherOps := f.prove(t, h, key("k1"))
			return h, k, other, otherOps
		}, proof.ErrMismatch},
		{"proof against another height", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			old, oldOps := f.prove(t, h-1, k)
			return h, k, old, oldOps
		}, proof.ErrMismatch},
		{"proof against another height, value changed since", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			_, oldOps := f.prove(t, h-1, key("shared"))
			now, _ := f.prove(t, h, key("shared"))
			return h, key("shared"), now, oldOps
		}, proof.ErrMismatch},
		{"other height relabelled", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			_, oldOps := f.prove(t, h-1, key("shared"))
			_, step := f.prove(t, h, k)
			oldOps[1] = step[1]
			return h, key("shared"), []byte("s2"), oldOps
		}, proof.ErrAppHash},
		{"truncated proof", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			ops[0].Data = ops[0].Data[:len(ops[0].Data)/2]
			return h, k, v, ops
		}, proof.ErrMalformed},
		{"app hash step dropped", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			return h, k, v, ops[:1]
		}, proof.ErrMalformed},
		{"messages root altered", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			var step proof.AppHashStep
			if err := codec.Unmarshal(ops[1].Data, &step); err != nil {
				t.Fatal(err)
			}
			step.MessagesRoot = bytes.Repeat([]byte{1}, 32)
			ops[1].Data = codec.MustMarshal(step)
			return h, k, v, ops
		}, proof.ErrAppHash},
		{"empty proof", func(v []byte, ops []proof.Op) (int64, []byte, []byte, []proof.Op) {
			return h, k, v, nil
		}, proof.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value, ops := f.prove(t, h, k)
			height, kk, v, forged := tc.forge(value, ops)
			err := proof.Verify(chainID, f.appHash[h], height, kk, v, forged)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(tc.name, "another height") && !strings.Contains(err.Error(), "the proof is for height") {
				t.Fatalf("err = %v, want it to name the height", err)
			}
		})
	}
}

// FuzzVerify: arbitrary proof bytes never panic and never verify.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{0x0a, 0x02, 0x01, 0x02}, []byte{0x84, 0x03, 0x40, 0x40})
	f.Fuzz(func(t *testing.T, state, step []byte) {
		ops := []proof.Op{{Type: proof.OpState, Key: []byte("k"), Data: state}, {Type: proof.OpAppHash, Data: step}}
		if proof.Verify(chainID, make([]byte, 32), 3, []byte("k"), []byte("v"), ops) == nil {
			t.Fatal("random bytes verified")
		}
	})
}
