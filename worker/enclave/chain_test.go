package enclave

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/lightclient"
)

// testChain is one in-process devnet shared by the package's tests (each
// runtime has its own keys, so they do not disturb each other), with the
// relay's job done by hand: read headers, commits and block digests over
// RPC and hand them to runtimes as relaywire batches.
type testChain struct {
	v   *validator
	rpc *rpchttp.HTTP
	cl  *client.Client
	doc *lightclient.Genesis
}

var shared struct {
	once sync.Once
	dir  string
	c    *testChain
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.v.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// chain starts the shared devnet on first use.
func chain(t testing.TB) *testChain {
	t.Helper()
	shared.once.Do(func() { shared.c, shared.err = startChain() })
	if shared.err != nil {
		t.Fatalf("devnet: %v", shared.err)
	}
	return shared.c
}

func startChain() (*testChain, error) {
	dir, err := os.MkdirTemp("", "runtime-test-*")
	if err != nil {
		return nil, err
	}
	shared.dir = dir
	return newChain(dir)
}

// ownChain starts a devnet for one test that needs a chain nobody else
// has touched (generation 1 of the master key still due, say); it stops
// when the test ends.
func ownChain(t *testing.T) *testChain {
	t.Helper()
	c, err := newChain(t.TempDir())
	if c != nil && c.v != nil {
		t.Cleanup(func() { _ = c.v.Stop() })
	}
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	return c
}

// newChain starts a one-validator devnet with its home in dir.
func newChain(dir string) (*testChain, error) {
	ports, err := node.FreePorts()
	if err != nil {
		return nil, err
	}
	home := node.Home(filepath.Join(dir, "chain"))
	timing := node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 30 * time.Millisecond, CreateEmptyBlocks: true}
	appState, err := devAppState()
	if err != nil {
		return nil, err
	}
	if err := node.InitSingle(home, node.InitOptions{ChainID: "phala-devnet", AppState: appState, Ports: ports, Timing: timing}); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v, err := startValidator(home, log, timing)
	if err != nil {
		return nil, err
	}
	c := &testChain{v: v}
	if c.rpc, err = rpchttp.New(v.Node.RPCURL()); err != nil {
		return c, err
	}
	if c.cl, err = client.New(v.Node.RPCURL()); err != nil {
		return c, err
	}
	raw, err := os.ReadFile(home.GenesisFile())
	if err != nil {
		return c, err
	}
	c.doc, err = lightclient.ParseGenesis(raw)
	return c, err
}

// The devnet is composed here rather than with package network, which
// imports this package (its devnet runs a worker): alice is the unsafe dev
// admin and may run a gatekeeper, sim quotes are accepted.
func devAppState() (json.RawMessage, error) {
	addr := func(name string) address.Address {
		return address.FromPublicKey(devKey(name).Public().(ed25519.PublicKey))
	}
	alice := addr("alice")
	g, err := app.DefaultGenesis(bank.DefaultGenesis(alice, addr("bob"), addr("carol")), registryapi.DefaultGenesis(true, registryapi.Grant{Operator: alice}))
	if err != nil {
		return nil, err
	}
	if g.Modules[govapi.Name], err = json.Marshal(govapi.Genesis{Params: govapi.DevnetParams(), UnsafeDevAdmin: &alice}); err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

// validator is the application with its consensus node.
type validator struct {
	App  *app.App
	Node *node.Node
}

func startValidator(home node.Home, log *slog.Logger, timing node.Timing) (*validator, error) {
	a, err := app.New("phala-devnet", home.AppDataDir(), log)
	if err != nil {
		return nil, err
	}
	n, err := node.Start(context.Background(), home, a, node.WithTiming(timing))
	if err != nil {
		a.Close()
		return nil, err
	}
	return &validator{App: a, Node: n}, nil
}

// Stop stops consensus first, then closes the store it was writing.
func (v *validator) Stop() error { return errors.Join(v.Node.Stop(), v.App.Close()) }

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitHeight waits until the chain has committed block h.
func (c *testChain) waitHeight(t testing.TB, h int64) {
	t.Helper()
	if err := c.v.Node.WaitHeight(testCtx(t, 30*time.Second), h); err != nil {
		t.Fatalf("wait for height %d: %v", h, err)
	}
}

// batch builds the relaywire batch of headers from..to, closed by the
// commit of to. Single validator: the set never changes.
func (c *testChain) batch(t testing.TB, from, to int64) relaywire.Batch {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	b := relaywire.Batch{Version: relaywire.Version}
	for h := from; h <= to; h++ {
		res, err := c.rpc.Commit(ctx, &h)
		if err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		hdr, err := res.Header.ToProto().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		blk := relaywire.Block{Header: hdr}
		if h > 1 {
			blk.Parent = c.digest(t, h-1)
		}
		b.Blocks = append(b.Blocks, blk)
		if h == to {
			if b.Commit, err = res.Commit.ToProto().Marshal(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b
}

// digest is block h's writes hash and message list, as the app serves it.
func (c *testChain) digest(t testing.TB, h int64) mq.Block {
	t.Helper()
	var d mq.Block
	if err := c.cl.Query(testCtx(t, 10*time.Second), chainapi.QueryBlock, codec.MustMarshal(h), &d); err != nil {
		t.Fatalf("digest of block %d: %v", h, err)
	}
	return d
}

// feed brings rt to header `to` (waiting for the chain to reach it) in
// batches of at most 25 blocks.
func (c *testChain) feed(t testing.TB, rt *Runtime, to int64) {
	t.Helper()
	c.waitHeight(t, to)
	for h := rt.Status().Height; h < to; {
		end := min(h+25, to)
		if err := rt.Apply(c.batch(t, h+1, end)); err != nil {
			t.Fatalf("apply %d..%d: %v", h+1, end, err)
		}
		h = end
	}
}

// tip is the newest header the chain has a commit for.
// tip is the newest committed height, at least 1: feeding a runtime up to
// it always gives it a block, also when a test runs alone on a chain that
// has only just started.
func (c *testChain) tip() int64 { return max(c.v.Node.Height(), 1) }

// devKey is a development account's key (alice is the registry admin).
func devKey(name string) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(keyring.DevSeed(name)) }

// newSim is a sim TEE with its secret in dir; measurement m makes
// different enclaves.
func newSim(t testing.TB, dir string, m byte) tee.Platform {
	t.Helper()
	p, err := sim.New(sim.WithDir(dir), sim.WithMeasurement([32]byte{m}), sim.WithWarnings(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// aliceAddr is the operator test runtimes are pinned to.
func aliceAddr() address.Address {
	return address.FromPublicKey(devKey("alice").Public().(ed25519.PublicKey))
}

// open starts a runtime in home on platform p, pinned to alice.
func (c *testChain) open(t testing.TB, home string, p tee.Platform, every int64) *Runtime {
	t.Helper()
	rt, err := Open(Config{Home: home, Genesis: c.doc, Platform: p, CheckpointEvery: every, Operator: aliceAddr(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open runtime: %v", err)
	}
	return rt
}
