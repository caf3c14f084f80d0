package lightclient

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

func TestVerifyHonestChain(t *testing.T) {
	for _, nvals := range []int{1, 4} {
		c := newTestChain(t, "test-chain", newSigners(t, "honest", nvals)).extend(20)
		st := c.genesisState()
		var finals []Final
		for _, r := range [][2]int64{{1, 1}, {2, 5}, {6, 6}, {7, 20}} {
			next, fs, err := verifyBoth(t, st, c.batch(r[0], r[1]))
			if err != nil {
				t.Fatalf("%d validators, batch %d..%d: %v", nvals, r[0], r[1], err)
			}
			st = next
			finals = append(finals, fs...)
		}
		last := c.header(20)
		if st.Height != 20 || !bytes.Equal(st.BlockHash, last.Hash()) || !bytes.Equal(st.AppHash, last.AppHash) || st.Time != last.Time.UnixNano() {
			t.Fatalf("state after 20: %+v", st)
		}
		if len(finals) != 19 {
			t.Fatalf("%d finals, want 19", len(finals))
		}
		for i, f := range finals {
			h := int64(i + 1)
			d := c.digests[h]
			if f.Height != h || !bytes.Equal(f.Hash, c.header(h).Hash()) || !f.Time.Equal(c.header(h).Time) || !reflect.DeepEqual(f.Messages, d.Messages) {
				t.Fatalf("final %d: %+v", h, f)
			}
		}
	}
}

func TestStateCheckpointRoundTrip(t *testing.T) {
	c := newTestChain(t, "test-chain", newSigners(t, "rt", 4)).extend(5)
	for _, st := range []State{c.genesisState(), c.syncTo(5)} {
		b, err := codec.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var got State
		if err := codec.UnmarshalCanonical(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Fatalf("round trip: %+v, want %+v", got, st)
		}
	}
}

func TestGenesis(t *testing.T) {
	s := newSigners(t, "genesis", 3)
	c := newTestChain(t, "test-chain", s)
	st := c.genesisState()
	if st.ChainID != "test-chain" || st.Height != 0 || st.BlockHash != nil || st.AppHash != nil || st.Time != genesisTime.UnixNano() {
		t.Fatalf("genesis state: %+v", st)
	}
	set, err := decodeValidators(st.Validators)
	if err != nil || !bytes.Equal(set.hash(), s.set.Hash()) {
		t.Fatalf("genesis validators: %v", err)
	}
	bad := map[string]func(d *cmttypes.GenesisDoc){
		"no chain id":       func(d *cmttypes.GenesisDoc) { d.ChainID = "" },
		"no validators":     func(d *cmttypes.GenesisDoc) { d.Validators = nil },
		"duplicate":         func(d *cmttypes.GenesisDoc) { d.Validators = append(d.Validators, d.Validators[0]) },
		"zero power":        func(d *cmttypes.GenesisDoc) { d.Validators[1].Power = 0 },
		"huge power":        func(d *cmttypes.GenesisDoc) { d.Validators[0].Power = cmttypes.MaxTotalVotingPower },
		"wrong address":     func(d *cmttypes.GenesisDoc) { d.Validators[0].Address = d.Validators[1].Address },
		"no key":            func(d *cmttypes.GenesisDoc) { d.Validators[0].PubKey = nil },
		"late start height": func(d *cmttypes.GenesisDoc) { d.InitialHeight = 7 },
	}
	for name, mutate := range bad {
		doc := *newTestChain(t, "test-chain", s).genesis
		doc.Validators = append([]cmttypes.GenesisValidator(nil), doc.Validators...)
		mutate(&doc)
		raw, err := cmtjson.Marshal(&doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := ParseGenesis(raw); !errors.Is(err, ErrGenesis) {
			t.Errorf("%s: %v, want %v", name, err, ErrGenesis)
		}
	}
	if _, err := GenesisState(nil); !errors.Is(err, ErrGenesis) {
		t.Errorf("nil genesis: %v", err)
	}
}

// mutation changes an honest batch 5..8 the way a malicious relay would.
type mutation func(t *testing.T, c *testChain, b *relaywire.Batch)

// forgeHeader replaces header h of the batch (which starts at 5) with a
// copy that change edited. The commit is left alone: a relay has no keys.
func forgeHeader(h int64, change func(c *testChain, hdr *cmttypes.Header)) mutation {
	return func(t *testing.T, c *testChain, b *relaywire.Batch) {
		hdr := *c.header(h)
		change(c, &hdr)
		b.Blocks[h-5].Header = encodeHeader(t, &hdr)
	}
}

func forgeParent(h int64, change func(p *mq.Block)) mutation {
	return func(_ *testing.T, c *testChain, b *relaywire.Batch) {
		p := c.parent(h)
		p.Messages = append([]mq.Message(nil), p.Messages...)
		change(&p)
		b.Blocks[h-5].Parent = p
	}
}

func forgeCommit(change func(t *testing.T, c *testChain) *cmttypes.Commit) mutation {
	return func(t *testing.T, c *testChain, b *relaywire.Batch) {
		b.Commit = encodeCommit(t, change(t, c))
	}
}

// forgeMessages changes block h-1's message list and forges header h's app
// hash to match, as a relay that wants its list accepted must.
func forgeMessages(h int64) mutation {
	return func(t *testing.T, c *testChain, b *relaywire.Batch) {
		p := c.parent(h)
		p.Messages = append([]mq.Message{{Topic: "forged", Payload: []byte{1}}}, p.Messages...)
		hdr := *c.header(h)
		app, err := p.AppHash(c.id, c.header(h-1).AppHash)
		if err != nil {
			t.Fatal(err)
		}
		hdr.AppHash = app
		b.Blocks[h-5].Header = encodeHeader(t, &hdr)
		b.Blocks[h-5].Parent = p
	}
}

func TestVerifyRefusesMaliciousRelay(t *testing.T) {
	vals := newSigners(t, "vals", 4)
	c := newTestChain(t, "test-chain", vals).extend(12)
	other := newTestChain(t, "other-chain", vals).extend(12)
	strangers := newSigners(t, "strangers", 4)
	st := c.syncTo(4)

	tests := []struct {
		name   string
		batch  func(t *testing.T) relaywire.Batch
		mutate mutation
		want   error
	}{
		{name: "forged app hash", mutate: forgeHeader(6, func(_ *testChain, h *cmttypes.Header) { h.AppHash = bytes.Repeat([]byte{9}, 32) }), want: ErrAppHash},
		{name: "forged messages with matching app hash mid-batch", mutate: forgeMessages(6), want: ErrBrokenLink},
		{name: "forged messages with matching app hash at the end", mutate: forgeMessages(8), want: ErrBadCommit},
		{name: "forged time mid-batch", mutate: forgeHeader(6, func(_ *testChain, h *cmttypes.Header) { h.Time = h.Time.Add(time.Millisecond) }), want: ErrBrokenLink},
		{name: "forged time at the end", mutate: forgeHeader(8, func(_ *testChain, h *cmttypes.Header) { h.Time = h.Time.Add(time.Millisecond) }), want: ErrBadCommit},
		{name: "time not increasing", mutate: forgeHeader(5, func(c *testChain, h *cmttypes.Header) { h.Time = c.header(4).Time }), want: ErrTime},
		{name: "broken parent link", mutate: forgeHeader(6, func(c *testChain, h *cmttypes.Header) { h.LastBlockID = blockID(c.header(4)) }), want: ErrBrokenLink},
		{name: "signature bytes flipped", mutate: forgeCommit(func(t *testing.T, c *testChain) *cmttypes.Commit {
			cm := c.commit(8)
			cm.Signatures[0].Signature[3] ^= 0x40
			return cm
		}), want: ErrBadCommit},
		{name: "signed by keys not in the set", mutate: forgeCommit(func(t *testing.T, c *testChain) *cmttypes.Commit {
			return c.commitWith(c.header(8), strangers.pvs)
		}), want: ErrBadCommit},
		{name: "one stranger among two honest signers", mutate: forgeCommit(func(t *testing.T, c *testChain) *cmttypes.Commit {
			return c.commitWith(c.header(8), []cmttypes.PrivValidator{vals.pvs[0], vals.pvs[1], strangers.pvs[2], nil})
		}), want: ErrBadCommit},
		{name: "signatures below 2/3", mutate: forgeCommit(func(t *testing.T, c *testChain) *cmttypes.Commit {
			return c.commitWith(c.header(8), []cmttypes.PrivValidator{vals.pvs[0], nil, vals.pvs[2], nil})
		}), want: ErrBadCommit},
		{name: "commit for another header", mutate: forgeCommit(func(t *testing.T, c *testChain) *cmttypes.Commit { return c.commit(7) }), want: ErrBadCommit},
		{name: "commit of another chain", mutate: forgeCommit(func(t *testing.T, c *testChain) *cmttypes.Commit { return other.commit(8) }), want: ErrBadCommit},
		{name: "message added", mutate: forgeParent(6, func(p *mq.Block) { p.Messages = append(p.Messages, mq.Message{Topic: "x"}) }), want: ErrAppHash},
		{name: "message removed", mutate: forgeParent(8, func(p *mq.Block) { p.Messages = p.Messages[1:] }), want: ErrAppHash},
		{name: "messages reordered", mutate: forgeParent(8, func(p *mq.Block) { p.Messages[0], p.Messages[1] = p.Messages[1], p.Messages[0] }), want: ErrAppHash},
		{name: "message payload changed", mutate: forgeParent(6, func(p *mq.Block) { p.Messages[0].Payload = []byte("evil") }), want: ErrAppHash},
		{name: "state root altered", mutate: forgeParent(6, func(p *mq.Block) { p.StateRoot = bytes.Repeat([]byte{7}, 32) }), want: ErrAppHash},
		{name: "state root dropped", mutate: forgeParent(6, func(p *mq.Block) { p.StateRoot, p.Messages = nil, nil }), want: ErrParent},
		{name: "digest of the wrong block", mutate: forgeParent(6, func(p *mq.Block) { p.Height = 4 }), want: ErrParent},
		{name: "messages without state root", mutate: forgeParent(6, func(p *mq.Block) { p.StateRoot = nil }), want: ErrParent},
		{name: "old block replayed", batch: func(t *testing.T) relaywire.Batch { return c.batch(4, 4) }, want: ErrWrongHeight},
		{name: "old blocks replayed", batch: func(t *testing.T) relaywire.Batch { return c.batch(2, 6) }, want: ErrWrongHeight},
		{name: "gap", batch: func(t *testing.T) relaywire.Batch { return c.batch(6, 8) }, want: ErrWrongHeight},
		{name: "gap inside the batch", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) {
			b.Blocks = append(b.Blocks[:1], b.Blocks[2:]...)
		}, want: ErrWrongHeight},
		{name: "block from another chain id", batch: func(t *testing.T) relaywire.Batch { return other.batch(5, 8) }, want: ErrWrongChain},
		{name: "validators announced without a change", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) { b.NextValidators = vals.proto(t) }, want: ErrValidatorSet},
		{name: "wrong version", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) { b.Version = 2 }, want: ErrMalformed},
		{name: "no blocks", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) { b.Blocks = nil }, want: ErrMalformed},
		{name: "garbage header", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) { b.Blocks[1].Header = []byte{0xff, 0x01} }, want: ErrMalformed},
		{name: "invalid header", mutate: forgeHeader(6, func(_ *testChain, h *cmttypes.Header) { h.ProposerAddress = nil }), want: ErrMalformed},
		{name: "garbage commit", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) { b.Commit = []byte("garbage") }, want: ErrMalformed},
		{name: "no commit", mutate: func(t *testing.T, c *testChain, b *relaywire.Batch) { b.Commit = nil }, want: ErrBadCommit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b relaywire.Batch
			if tc.batch != nil {
				b = tc.batch(t)
			} else {
				b = c.batch(5, 8)
				tc.mutate(t, c, &b)
			}
			expectRefused(t, st, b, tc.want)
		})
	}
	// The table must not have hurt the honest path.
	if _, _, err := Verify(st, c.batch(5, 8)); err != nil {
		t.Fatalf("honest batch: %v", err)
	}
}

// expectRefused requires Verify to refuse b with want, leaving the state
// alone, and the CometBFT reference to refuse it too.
func expectRefused(t *testing.T, st State, b relaywire.Batch, want error) {
	t.Helper()
	before := cloneState(st)
	if _, _, err := referenceVerify(cloneState(st), cloneBatch(b)); err == nil {
		t.Fatalf("the CometBFT reference accepts a batch the test expects refused with %v", want)
	}
	got, finals, err := Verify(st, b)
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if !reflect.DeepEqual(got, before) || !reflect.DeepEqual(st, before) || finals != nil {
		t.Fatalf("refused batch changed the state: %+v, finals %v", got, finals)
	}
	t.Logf("refused: %v", err)
}

func cloneState(st State) State {
	st.BlockHash = bytes.Clone(st.BlockHash)
	st.AppHash = bytes.Clone(st.AppHash)
	st.Validators = bytes.Clone(st.Validators)
	return st
}

func TestVerifyRefusesGenesisForgeries(t *testing.T) {
	c := newTestChain(t, "test-chain", newSigners(t, "g", 1)).extend(3)
	st := c.genesisState()
	b := c.batch(1, 3)
	b.Blocks[0].Parent = mq.Block{Height: 0, Messages: []mq.Message{{Topic: "x"}}}
	expectRefused(t, st, b, ErrParent)

	hdr := *c.header(1)
	hdr.LastBlockID = blockID(c.header(2))
	b = c.batch(1, 3)
	b.Blocks[0].Header = encodeHeader(t, &hdr)
	expectRefused(t, st, b, ErrBrokenLink)

	hdr = *c.header(1)
	hdr.Time = genesisTime.Add(-time.Second)
	b = c.batch(1, 3)
	b.Blocks[0].Header = encodeHeader(t, &hdr)
	expectRefused(t, st, b, ErrTime)

	bad := st
	bad.Validators = []byte("not a validator set")
	expectRefused(t, bad, c.batch(1, 3), ErrState)
}

func TestValidatorSetChange(t *testing.T) {
	oldSet, newSet := newSigners(t, "old", 4), newSigners(t, "new", 3)
	c := newTestChain(t, "test-chain", oldSet).extend(5)
	c.changeValidators(newSet)
	c.extend(6) // header 6 names newSet; headers 7.. are signed by it
	st := c.syncTo(4)

	t.Run("refused mid-batch", func(t *testing.T) {
		expectRefused(t, st, c.batch(5, 8), ErrValidatorSet)
	})
	t.Run("refused without next validators", func(t *testing.T) {
		b := c.batch(5, 6)
		b.NextValidators = nil
		expectRefused(t, st, b, ErrValidatorSet)
	})
	t.Run("refused with the wrong next validators", func(t *testing.T) {
		b := c.batch(5, 6)
		b.NextValidators = newSigners(t, "wrong", 3).proto(t)
		expectRefused(t, st, b, ErrValidatorSet)
	})
	t.Run("refused with undecodable next validators", func(t *testing.T) {
		b := c.batch(5, 6)
		b.NextValidators = []byte{0x0a, 0x05, 1}
		expectRefused(t, st, b, ErrMalformed)
	})
	t.Run("accepted when done right", func(t *testing.T) {
		mid, _, err := verifyBoth(t, st, c.batch(5, 6))
		if err != nil {
			t.Fatal(err)
		}
		want := referenceStateValidators(t, newSet.set)
		if !bytes.Equal(mid.Validators, want) {
			t.Fatal("state does not hold the new set")
		}
		// The old set can no longer sign.
		b := c.batch(7, 9)
		b.Commit = encodeCommit(t, c.commitWith(c.header(9), oldSet.pvs[:3]))
		expectRefused(t, mid, b, ErrBadCommit)
		// The new set signs the following batch.
		end, finals, err := verifyBoth(t, mid, c.batch(7, 11))
		if err != nil {
			t.Fatal(err)
		}
		if end.Height != 11 || len(finals) != 5 || !bytes.Equal(end.Validators, want) {
			t.Fatalf("after the change: height %d, %d finals", end.Height, len(finals))
		}
	})
	t.Run("headers before the change cannot claim the new set", func(t *testing.T) {
		mid, _, err := Verify(st, c.batch(5, 6))
		if err != nil {
			t.Fatal(err)
		}
		// A batch at 7 signed by the old set with the old ValidatorsHash is
		// not the chain: it breaks the hash link or names the wrong set.
		forged := *c.header(7)
		forged.ValidatorsHash = oldSet.set.Hash()
		b := c.batch(7, 7)
		b.Blocks[0].Header = encodeHeader(t, &forged)
		b.Commit = encodeCommit(t, c.commitWith(&forged, oldSet.pvs))
		expectRefused(t, mid, b, ErrValidatorSet)
	})
}

// The State's validator bytes depend on the set only, not on the proposer
// or priorities a relay happened to encode.
func TestNextValidatorsAreNormalised(t *testing.T) {
	oldSet, newSet := newSigners(t, "old", 1), newSigners(t, "new", 4)
	c := newTestChain(t, "test-chain", oldSet).extend(2)
	c.changeValidators(newSet)
	c.extend(1)
	st := c.syncTo(2)
	honest, _, err := verifyBoth(t, st, c.batch(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	rotated := newSet.set.Copy()
	rotated.IncrementProposerPriority(3)
	b := c.batch(3, 3)
	b.NextValidators = (&signers{set: rotated}).proto(t)
	if bytes.Equal(b.NextValidators, c.batch(3, 3).NextValidators) {
		t.Fatal("rotation did not change the encoding")
	}
	other, _, err := verifyBoth(t, st, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(honest, other) {
		t.Fatal("two encodings of one validator set gave two states")
	}
}

// Codes travel to relays and logs: renumbering one is a breaking change.
func TestErrorCodesAreStable(t *testing.T) {
	want := map[uint32]error{
		1: ErrMalformed, 2: ErrWrongChain, 3: ErrWrongHeight, 4: ErrBrokenLink,
		5: ErrValidatorSet, 6: ErrBadCommit, 7: ErrAppHash, 8: ErrTime,
		9: ErrParent, 10: ErrState, 11: ErrGenesis,
	}
	for code, err := range want {
		if m, c := errs.Code(err); m != "lightclient" || c != code {
			t.Errorf("%v is %s/%d, want lightclient/%d", err, m, c, code)
		}
	}
}
