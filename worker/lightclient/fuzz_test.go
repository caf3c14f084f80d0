package lightclient

import (
	"bytes"
	"testing"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/relaywire"
)

// FuzzVerify feeds batches decoded from arbitrary bytes to a fixed state:
// Verify must never panic, and a refused batch leaves the state alone.
func FuzzVerify(f *testing.F) {
	c := newTestChain(f, "fuzz-chain", newSigners(f, "fuzz", 4)).extend(10)
	st := c.syncTo(4)
	for _, b := range []relaywire.Batch{c.batch(5, 8), c.batch(5, 5), c.batch(4, 6)} {
		f.Add(codec.MustMarshal(b))
	}
	f.Add([]byte{0x84, 0x01, 0x80, 0x40, 0xf6})
	f.Add([]byte("garbage"))
	genesis := c.genesisState()
	f.Add(codec.MustMarshal(c.batch(1, 2)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b relaywire.Batch
		if err := codec.Unmarshal(data, &b); err != nil {
			return
		}
		for _, from := range []State{st, genesis} {
			before := cloneState(from)
			got, _, err := Verify(from, b)
			if err != nil && !equalState(got, before) {
				t.Fatalf("refused batch changed the state: %v", err)
			}
		}
	})
}

// FuzzDecode feeds arbitrary bytes to every protobuf decoder Verify uses on
// relay input.
func FuzzDecode(f *testing.F) {
	c := newTestChain(f, "fuzz-chain", newSigners(f, "fuzz", 4)).extend(2)
	f.Add(encodeHeader(f, c.header(2)))
	f.Add(encodeCommit(f, c.commit(2)))
	f.Add(c.signBy[0].proto(f))
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	vals, err := decodeValidators(c.signBy[0].proto(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, err := decodeHeader(data); err == nil {
			_ = h.hash()
		}
		if set, err := decodeValidators(data); err == nil {
			_ = set.hash()
			if _, err := set.encode(); err != nil {
				t.Fatalf("decoded set does not encode: %v", err)
			}
		}
		if cm, err := decodeCommit(data); err == nil {
			_ = verifyCommit(c.id, vals, cm)
		}
	})
}

func equalState(a, b State) bool {
	return a.ChainID == b.ChainID && a.Height == b.Height && a.Time == b.Time &&
		string(a.BlockHash) == string(b.BlockHash) && string(a.AppHash) == string(b.AppHash) &&
		string(a.Validators) == string(b.Validators)
}

// FuzzParseGenesis feeds arbitrary JSON to ParseGenesis: it must not panic,
// and a document it accepts must mean the same to CometBFT's reader
// whenever that accepts it too (CometBFT may refuse more: it also checks
// the consensus parameters, which the light client does not read).
func FuzzParseGenesis(f *testing.F) {
	gen := generatedChain(f, "fuzz-genesis", 2, 0)
	raw, err := cmtjson.Marshal(gen.Genesis)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"chain_id":"x","genesis_time":"2026-01-01T00:00:00Z","validators":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGenesis(data)
		if err != nil {
			return
		}
		st, err := GenesisState(g)
		if err != nil {
			t.Fatalf("parsed genesis does not start a client: %v", err)
		}
		doc, err := cmttypes.GenesisDocFromJSON(data)
		if err != nil {
			return
		}
		set, err := decodeValidators(st.Validators)
		if err != nil {
			t.Fatal(err)
		}
		if doc.ChainID != g.ChainID || !doc.GenesisTime.Equal(g.Time) || !bytes.Equal(doc.ValidatorHash(), set.hash()) {
			t.Fatalf("CometBFT reads %+v, the light client %+v", doc, g)
		}
	})
}
