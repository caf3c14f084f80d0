package keys

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
)

type emptyReader struct{}

func (emptyReader) Get([]byte) ([]byte, error) { return nil, nil }

func genesisContext(t *testing.T) *module.Context {
	ctx := &module.Context{Block: module.Block{ChainID: "test", Height: 1}, Store: state.NewOverlay(emptyReader{})}
	if err := (Module{}).InitGenesis(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func TestGenesisIsStrict(t *testing.T) {
	for _, raw := range []string{`{"x":1}`, `[]`, `nonsense`} {
		ctx := &module.Context{Store: state.NewOverlay(emptyReader{})}
		if err := (Module{}).InitGenesis(ctx, []byte(raw)); err == nil {
			t.Errorf("genesis %s accepted", raw)
		}
	}
}

// TestMasterPublicRepeats: the chain's content dedup usually drops an
// identical copy before the handler; if one reaches it (a gatekeeper's copy
// relayed after a restart re-encodes the same), it changes nothing and
// succeeds, while a different key for the same generation is refused.
func TestMasterPublicRepeats(t *testing.T) {
	ctx := genesisContext(t)
	first, other := keysapi.MasterPublic{Generation: 1, PublicKey: testPublicKey(t)}, keysapi.MasterPublic{Generation: 1, PublicKey: testPublicKey(t)}
	steps := []struct {
		name   string
		msg    keysapi.MasterPublic
		want   error
		writes bool
	}{
		{"first records", first, nil, true},
		{"identical is a no-op", first, nil, false},
		{"different is a conflict", other, keysapi.ErrConflict, false},
		{"next generation is not pending", keysapi.MasterPublic{Generation: 2, PublicKey: first.PublicKey}, keysapi.ErrGeneration, false},
	}
	for _, s := range steps {
		sub := *ctx
		sub.Store = ctx.Store.Branch()
		err := recordMasterPublic(&sub, nil, codec.MustMarshal(s.msg))
		if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
		if wrote := !sub.Store.Empty(); wrote != s.writes {
			t.Fatalf("%s: wrote %v, want %v", s.name, wrote, s.writes)
		}
		sub.Store.Merge()
	}
	st, err := getStatus(ctx.Store)
	if err != nil || st.Newest != 1 || st.Pending != 0 {
		t.Fatalf("status %+v (%v)", st, err)
	}
}

// TestDesignatedTakesTurns: the smallest key is designated for the first
// DesignationTurn blocks after a generation falls due, then the next, round
// the set; the order the keys come in does not matter.
func TestDesignatedTakesTurns(t *testing.T) {
	a, b, c := []byte{1, 2}, []byte{1, 3}, []byte{0, 9}
	const due = 1000
	tests := []struct {
		keys [][]byte
		at   int64
		want []byte
	}{
		{nil, due, nil},
		{[][]byte{a}, due, a},
		{[][]byte{a}, due + 7*keysapi.DesignationTurn, a},
		{[][]byte{b, a, c}, due, c},
		{[][]byte{b, a, c}, due + keysapi.DesignationTurn - 1, c},
		{[][]byte{b, a, c}, due + keysapi.DesignationTurn, a},
		{[][]byte{c, b, a}, due + 2*keysapi.DesignationTurn + 5, b},
		{[][]byte{b, a, c}, due + 3*keysapi.DesignationTurn, c},
		{[][]byte{a, b}, due - 50, a}, // before it is due: the first turn
	}
	for _, tc := range tests {
		var in []ed25519.PublicKey
		for _, k := range tc.keys {
			in = append(in, k)
		}
		if got := keysapi.Designated(in, due, tc.at); string(got) != string(tc.want) {
			t.Errorf("Designated(%x, %d, %d) = %x, want %x", tc.keys, due, tc.at, got, tc.want)
		}
	}
}

// testPublicKey is a fresh MLKEM768X25519 public key.
func testPublicKey(t testing.TB) []byte {
	k, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}
