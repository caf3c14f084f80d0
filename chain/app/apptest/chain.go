package apptest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
)

// ChainID is the chain every harness runs; transactions and egress
// messages are signed for it.
const ChainID = "phala-test"

// Chain is one application fed block after block. After every block it
// checks the supply invariant, so no test can move tokens out of thin air
// unnoticed.
type Chain struct {
	T      testing.TB
	App    *app.App
	Dir    string    // the store directory, to reopen the application after a "restart"
	Height int64     // of the newest committed block; 0 before the first
	Now    time.Time // the newest block's time; the next block is a second later. Move it to jump the clock
}

// Option changes how New starts the chain.
type Option func(*options)

type options struct {
	allowSim bool
	edit     []func(*app.Genesis)
	open     func(chainID, dir string) (*app.App, error)
}

// WithoutSim starts the chain with the registry's production genesis,
// whose attestation policy refuses sim quotes.
func WithoutSim() Option { return func(o *options) { o.allowSim = false } }

// WithGenesis edits the genesis before the chain starts, e.g. to add the
// section of a module that WithApp composes in.
func WithGenesis(edit func(*app.Genesis)) Option {
	return func(o *options) { o.edit = append(o.edit, edit) }
}

// WithApp opens the application with open instead of app.New, e.g. one
// composed with extra modules.
func WithApp(open func(chainID, dir string) (*app.App, error)) Option {
	return func(o *options) { o.open = open }
}

func openDefault(chainID, dir string) (*app.App, error) {
	return app.New(chainID, dir, slog.Default())
}

// New starts a chain from the default genesis: the dev accounts funded,
// Alice the unsafe dev admin, sim quotes allowed. No block is committed
// yet; a sim registration needs one to anchor to.
func New(t testing.TB, opts ...Option) *Chain {
	t.Helper()
	o := options{allowSim: true, open: openDefault}
	for _, opt := range opts {
		opt(&o)
	}
	dir := t.TempDir()
	a, err := o.open(ChainID, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	g := Genesis(t, o.allowSim)
	for _, edit := range o.edit {
		edit(&g)
	}
	if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: ChainID, Time: time.Unix(1, 0), AppStateBytes: GenesisJSON(t, g)}); err != nil {
		t.Fatal(err)
	}
	return &Chain{T: t, App: a, Dir: dir, Now: time.Unix(1_700_000_000, 0)}
}

// Genesis is the default genesis: the dev accounts' allocations and Alice
// as the unsafe dev admin (gov's default params); allowSim chooses the
// registry's dev or production attestation policy. NoDevAdmin removes the
// admin, as on a production chain.
func Genesis(t testing.TB, allowSim bool) app.Genesis {
	t.Helper()
	g, err := app.DefaultGenesis(bank.DefaultGenesis(Alice.Addr, Bob.Addr, Carol.Addr), registryapi.DefaultGenesis(allowSim))
	if err != nil {
		t.Fatal(err)
	}
	admin := Alice.Addr
	if g.Modules[govapi.Name], err = json.Marshal(govapi.Genesis{Params: govapi.DefaultParams(), UnsafeDevAdmin: &admin}); err != nil {
		t.Fatal(err)
	}
	return g
}

// NoDevAdmin is a genesis edit (WithGenesis) that leaves the chain without
// an unsafe dev admin: every Authority method then needs a proposal.
func NoDevAdmin(g *app.Genesis) {
	g.Modules[govapi.Name], _ = json.Marshal(govapi.Genesis{Params: govapi.DefaultParams()})
}

// GenesisJSON is g as CometBFT hands it to InitChain.
func GenesisJSON(t testing.TB, g app.Genesis) []byte {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Block finalizes and commits a block of txs, one second after the last.
func (c *Chain) Block(txs ...[]byte) *abci.FinalizeBlockResponse {
	c.T.Helper()
	c.Height++
	c.Now = c.Now.Add(time.Second)
	hash := sha256.Sum256([]byte(fmt.Sprint("block", c.Height)))
	resp, err := c.App.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: c.Height, Time: c.Now, Hash: hash[:], Txs: txs})
	if err != nil {
		c.T.Fatal(err)
	}
	if _, err := c.App.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
		c.T.Fatal(err)
	}
	if err := bank.CheckSupply(c.App.Store()); err != nil {
		c.T.Fatalf("after block %d: %v", c.Height, err)
	}
	return resp
}

// Check runs raw through the mempool's CheckTx.
func (c *Chain) Check(raw []byte) *abci.CheckTxResponse {
	c.T.Helper()
	resp, err := c.App.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: raw, Type: abci.CHECK_TX_TYPE_CHECK})
	if err != nil {
		c.T.Fatal(err)
	}
	return resp
}

// Info is what the application says of its last commit.
func (c *Chain) Info() *abci.InfoResponse {
	c.T.Helper()
	info, err := c.App.Info(context.Background(), &abci.InfoRequest{})
	if err != nil {
		c.T.Fatal(err)
	}
	return info
}

// AppHash is the app hash of the last commit, to show that something
// changed state or did not.
func (c *Chain) AppHash() []byte {
	c.T.Helper()
	return c.Info().LastBlockAppHash
}

// Account is a's committed bank account.
func (c *Chain) Account(a address.Address) bankapi.Account {
	c.T.Helper()
	acc, err := bank.GetAccount(c.App.Store(), a)
	if err != nil {
		c.T.Fatal(err)
	}
	return acc
}

// Query asks the application as a client would and decodes the answer
// into out; a refused query returns its error as the client sees it.
func (c *Chain) Query(path string, data []byte, out any) error {
	c.T.Helper()
	resp, err := c.App.Query(context.Background(), &abci.QueryRequest{Path: path, Data: data})
	if err != nil {
		c.T.Fatal(err)
	}
	if err := wireErr(resp.Codespace, resp.Code, resp.Log); err != nil {
		return err
	}
	return codec.Unmarshal(resp.Value, out)
}

// Published returns the payloads the newest block put on topic of its
// message list.
func (c *Chain) Published(topic string) [][]byte {
	c.T.Helper()
	msgs, err := c.App.Messages(c.Height)
	if err != nil {
		c.T.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		if m.Topic == topic {
			out = append(out, m.Payload)
		}
	}
	return out
}
