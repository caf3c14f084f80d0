package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/worker/lightclient"
)

func decodeHeader(t *testing.T, raw []byte) cmttypes.Header {
	t.Helper()
	var pb cmtproto.Header
	if err := pb.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	h, err := cmttypes.HeaderFromProto(&pb)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func decodeCommit(t *testing.T, raw []byte) *cmttypes.Commit {
	t.Helper()
	var pb cmtproto.Commit
	if err := pb.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	c, err := cmttypes.CommitFromProto(&pb)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkBatch asserts what the runtime relies on: consecutive heights after
// verified, each parent digest chaining the previous header's app hash to
// this header's, and a commit of the last header by the genesis validators.
func checkBatch(t *testing.T, chainID string, vals *cmttypes.ValidatorSet, prev *cmttypes.Header, verified int64, b relaywire.Batch) *cmttypes.Header {
	t.Helper()
	if b.Version != relaywire.Version || len(b.Blocks) == 0 {
		t.Fatalf("batch after %d: version %d, %d blocks", verified, b.Version, len(b.Blocks))
	}
	var last cmttypes.Header
	for i, blk := range b.Blocks {
		h := decodeHeader(t, blk.Header)
		if h.Height != verified+int64(i)+1 {
			t.Fatalf("block %d of batch after %d has height %d", i, verified, h.Height)
		}
		if h.Height == 1 {
			if blk.Parent.Height != 0 || blk.Parent.StateRoot != nil || len(blk.Parent.Messages) != 0 {
				t.Fatalf("header 1 has parent %+v, want none", blk.Parent)
			}
		} else {
			if blk.Parent.Height != h.Height-1 {
				t.Fatalf("header %d carries the digest of block %d", h.Height, blk.Parent.Height)
			}
			got, err := blk.Parent.AppHash(chainID, prev.AppHash)
			if err != nil || !bytes.Equal(got, h.AppHash) {
				t.Fatalf("parent of header %d: app hash %X, header says %X (%v)", h.Height, got, h.AppHash, err)
			}
			if !bytes.Equal(h.LastBlockID.Hash, prev.Hash()) {
				t.Fatalf("header %d does not link to header %d", h.Height, prev.Height)
			}
		}
		last = h
		prev = &last
	}
	c := decodeCommit(t, b.Commit)
	if c.Height != last.Height || !bytes.Equal(c.BlockID.Hash, last.Hash()) {
		t.Fatalf("commit of height %d for block %X, want header %d", c.Height, c.BlockID.Hash, last.Height)
	}
	if err := vals.VerifyCommitLight(chainID, c.BlockID, c.Height, c); err != nil {
		t.Fatalf("commit of header %d: %v", last.Height, err)
	}
	if b.NextValidators != nil {
		t.Fatalf("a single-validator devnet never changes validators, batch carries a set")
	}
	return prev
}

func TestSourceBuildsVerifiableBatches(t *testing.T) {
	d := startDevnet(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// Transfers give some blocks writes, so digests are not all empty.
	c := d.client(t)
	bob := address.FromPublicKey(devKey("bob").Public().(ed25519.PublicKey))
	for range 3 {
		if _, err := c.Transfer(ctx, devKey("alice"), bob, token.PHA(1), client.SendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	d.waitHeight(t, 25)

	gen := d.v.Node.Comet().GenesisDoc()
	genVals := genesisValidators(gen)
	lc, err := lightclient.GenesisState(lightGenesis(t, gen))
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(d.url, WithBatchSize(7), WithWorkers(4))
	if err != nil {
		t.Fatal(err)
	}
	head, err := src.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.ChainID != gen.ChainID || head.Height < 25 {
		t.Fatalf("head %+v", head)
	}
	var prev *cmttypes.Header
	for verified := int64(0); verified < head.Height; {
		b, err := src.Batch(ctx, verified, head.Height)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Blocks) > 7 {
			t.Fatalf("batch of %d blocks, limit 7", len(b.Blocks))
		}
		prev = checkBatch(t, gen.ChainID, genVals, prev, verified, b)
		if lc, _, err = lightclient.Verify(lc, b); err != nil {
			t.Fatalf("light client refused batch after %d: %v", verified, err)
		}
		verified += int64(len(b.Blocks))
	}
	if prev.Height != head.Height {
		t.Fatalf("walked to %d, head %d", prev.Height, head.Height)
	}
	if _, err := src.Batch(ctx, head.Height, head.Height); !errors.Is(err, ErrNothingNew) {
		t.Fatalf("batch at the head: %v, want ErrNothingNew", err)
	}
}

func TestSourceValidatorSetMatchesHeader(t *testing.T) {
	d := startDevnet(t)
	d.waitHeight(t, 3)
	ctx := t.Context()
	src, err := NewSource(d.url)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := src.headers(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := src.validators(ctx, 3, hs[0].NextValidatorsHash)
	if err != nil {
		t.Fatal(err)
	}
	var pb cmtproto.ValidatorSet
	if err := pb.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	vs, err := cmttypes.ValidatorSetFromProto(&pb)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vs.Hash(), hs[0].NextValidatorsHash) {
		t.Fatal("encoded validator set does not hash to the header's")
	}
	if _, err := src.validators(ctx, 3, []byte("another hash")); !errors.Is(err, ErrNodeAnswer) {
		t.Fatalf("a set of another hash: %v, want ErrNodeAnswer", err)
	}
}

func genesisValidators(gen *cmttypes.GenesisDoc) *cmttypes.ValidatorSet {
	vals := make([]*cmttypes.Validator, len(gen.Validators))
	for i, v := range gen.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	return cmttypes.NewValidatorSet(vals)
}

func TestSourceFallsBackToSmallerRPCBatches(t *testing.T) {
	d := startDevnet(t)
	d.waitHeight(t, 30)
	// The devnet allows CometBFT's default of 10 calls per batch.
	src, err := NewSource(d.url, WithRPCBatch(50), WithBatchSize(30))
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Batch(t.Context(), 0, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Blocks) != 30 || b.Blocks[29].Parent.Height != 29 {
		t.Fatalf("batch of %d blocks", len(b.Blocks))
	}
	if got := src.batcher.per.Load(); got != 1 {
		t.Fatalf("still sending %d calls per batch after a refusal", got)
	}
}

func TestBatchQueuePrefetchesAndDiscardsAMissedGuess(t *testing.T) {
	d := startDevnet(t)
	d.waitHeight(t, 12)
	src, err := NewSource(d.url, WithBatchSize(4))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Source: src, Runtime: NewHTTPRuntime("http://127.0.0.1:1", ""), Chain: d.client(t), Operator: devKey("alice")})
	if err != nil {
		t.Fatal(err)
	}
	q := &batchQueue{r: r, latest: 12}
	defer q.close()
	first := func(b relaywire.Batch) int64 { return decodeHeader(t, b.Blocks[0].Header).Height }
	steps := []struct{ verified, want int64 }{
		{0, 1}, // builds 1..4, prefetches 5..8
		{4, 5}, // the guess was right
		{6, 7}, // the runtime stopped short: 9..12 is discarded, 7..10 built
		{10, 11},
	}
	for _, s := range steps {
		b, err := q.batch(t.Context(), s.verified)
		if err != nil {
			t.Fatal(err)
		}
		if got := first(b); got != s.want {
			t.Fatalf("after %d: batch starts at %d, want %d", s.verified, got, s.want)
		}
	}
	if q.next != nil {
		t.Fatalf("a prefetch after the last batch (from %d)", q.next.from)
	}
}
