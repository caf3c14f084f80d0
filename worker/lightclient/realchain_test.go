package lightclient_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/phala-go/phala/internal/devnettest"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/worker/lightclient"
)

// TestVerifyRealChain runs a devnet validator in process, makes it commit a
// transfer and a sim-worker registration (which publishes a message for
// enclaves), and syncs a light client from the genesis document with what a
// relay would fetch: headers and commits over RPC, digests by ABCI query.
func TestVerifyRealChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	v, cl := devnettest.Start(t, ctx)
	alice := ed25519.NewKeyFromSeed(keyring.DevSeed("alice"))
	if _, err := cl.Transfer(ctx, alice, network.DevAccounts()[1].Address, token.PHA(1), client.SendOptions{}); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	reg := devnettest.RegisterSimNode(t, ctx, cl, alice, registryapi.RoleWorker).Included
	end := max(reg.Height+2, 12)
	if err := v.Node.WaitHeight(ctx, end+1); err != nil {
		t.Fatal(err)
	}

	r := relay{t: t, ctx: ctx, cl: cl}
	var err error
	if r.rpc, err = rpchttp.New(v.Node.RPCURL()); err != nil {
		t.Fatal(err)
	}
	rawGenesis, err := cmtjson.Marshal(v.Node.Comet().GenesisDoc())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := lightclient.ParseGenesis(rawGenesis)
	if err != nil {
		t.Fatal(err)
	}
	st, err := lightclient.GenesisState(gen)
	if err != nil {
		t.Fatal(err)
	}
	var finals []lightclient.Final
	tampered := false
	for _, span := range [][2]int64{{1, 1}, {2, 5}, {6, end}} {
		b := r.batch(span[0], span[1])
		tampered = expectTamperRefused(t, st, b) || tampered
		next, fs, err := lightclient.Verify(st, b)
		if err != nil {
			t.Fatalf("batch %d..%d: %v", span[0], span[1], err)
		}
		st, finals = next, append(finals, fs...)
	}

	if !tampered {
		t.Fatal("no batch proved a block with messages")
	}
	last := r.header(end)
	if st.Height != end || !bytes.Equal(st.BlockHash, last.Hash()) || !bytes.Equal(st.AppHash, last.AppHash) {
		t.Fatalf("state %+v does not match header %d", st, end)
	}
	if len(finals) != int(end-1) {
		t.Fatalf("%d finals, want %d", len(finals), end-1)
	}
	var published int
	for i, f := range finals {
		if f.Height != int64(i+1) || !bytes.Equal(f.Hash, r.header(f.Height).Hash()) {
			t.Fatalf("final %d: height %d hash %x", i, f.Height, f.Hash)
		}
		if f.Height == reg.Height {
			if len(f.Messages) != 1 || f.Messages[0].Topic != registryapi.TopicNode {
				t.Fatalf("registration block %d finalised with %v", f.Height, f.Messages)
			}
		}
		published += len(f.Messages)
	}
	if published != 1 {
		t.Fatalf("%d messages finalised, want the registration's 1", published)
	}
}

// relay fetches what the untrusted host would hand the runtime.
type relay struct {
	t   *testing.T
	ctx context.Context
	cl  *client.Client
	rpc *rpchttp.HTTP
}

func (r relay) signed(h int64) *cmttypes.SignedHeader {
	r.t.Helper()
	res, err := r.rpc.Commit(r.ctx, &h)
	if err != nil {
		r.t.Fatalf("commit %d: %v", h, err)
	}
	return &res.SignedHeader
}

func (r relay) header(h int64) *cmttypes.Header { return r.signed(h).Header }

func (r relay) digest(h int64) mq.Block {
	r.t.Helper()
	var d mq.Block
	if err := r.cl.Query(r.ctx, chainapi.QueryBlock, codec.MustMarshal(h), &d); err != nil {
		r.t.Fatalf("digest of block %d: %v", h, err)
	}
	return d
}

func (r relay) batch(from, to int64) relaywire.Batch {
	r.t.Helper()
	b := relaywire.Batch{Version: relaywire.Version}
	for h := from; h <= to; h++ {
		sh := r.signed(h)
		raw, err := sh.Header.ToProto().Marshal()
		if err != nil {
			r.t.Fatal(err)
		}
		blk := relaywire.Block{Header: raw}
		if h > 1 {
			blk.Parent = r.digest(h - 1)
		}
		b.Blocks = append(b.Blocks, blk)
		if h == to {
			if b.Commit, err = sh.Commit.ToProto().Marshal(); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	// The CBOR round trip is what the runtime receives.
	var out relaywire.Batch
	if err := codec.Unmarshal(codec.MustMarshal(b), &out); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// expectTamperRefused drops the message list of the first block of b that
// has messages, if any: the real chain's signed app hash must catch it.
func expectTamperRefused(t *testing.T, st lightclient.State, b relaywire.Batch) bool {
	t.Helper()
	for i, blk := range b.Blocks {
		if len(blk.Parent.Messages) == 0 {
			continue
		}
		forged := b
		forged.Blocks = append([]relaywire.Block(nil), b.Blocks...)
		forged.Blocks[i].Parent.Messages = nil
		got, _, err := lightclient.Verify(st, forged)
		if !errors.Is(err, lightclient.ErrAppHash) || got.Height != st.Height {
			t.Fatalf("dropped messages of block %d: %v", blk.Parent.Height, err)
		}
		return true
	}
	return false
}
