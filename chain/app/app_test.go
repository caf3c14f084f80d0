package app_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

var dave = apptest.Dev("dave") // unfunded at genesis

// txOpts describe one transfer; zero fields take working defaults.
type txOpts struct {
	from    apptest.Account
	to      address.Address
	amount  token.Amount
	nonce   uint64
	fee     token.Amount
	gas     uint64
	chainID string
	method  string
}

// transfer signs the transfer o describes. Unlike apptest's Signed it lets
// a test get every envelope field wrong.
func transfer(t testing.TB, o txOpts) []byte {
	t.Helper()
	if o.chainID == "" {
		o.chainID = apptest.ChainID
	}
	if o.fee.IsZero() {
		o.fee = token.PHA(1)
	}
	if o.gas == 0 {
		o.gas = 10_000
	}
	if o.method == "" {
		o.method = bankapi.MethodTransfer
	}
	env, err := tx.New(o.chainID, o.from.PublicKey(), o.nonce, o.fee, o.gas, o.method, bankapi.Transfer{To: o.to, Amount: o.amount})
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Sign(o.from.Key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resigned is raw signed again by key, as if key's owner had sent it.
func resigned(t testing.TB, raw []byte, key ed25519.PrivateKey) []byte {
	t.Helper()
	s, err := tx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Envelope.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unsigned is raw with its signature removed.
func unsigned(t testing.TB, raw []byte) []byte {
	t.Helper()
	s, err := tx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	s.Signature = nil
	return codec.MustMarshal(s)
}

func TestGenesisSupplyAndAllocation(t *testing.T) {
	h := apptest.New(t)
	pct := func(p uint64) token.Amount { return token.PHA(10_000_000 * p) }
	want := map[address.Address]token.Amount{
		bankapi.RewardPool: pct(70), bankapi.Community: pct(9),
		apptest.Alice.Addr: pct(10), apptest.Bob.Addr: pct(6), apptest.Carol.Addr: pct(5),
	}
	for a, amount := range want {
		if got := h.Account(a).Balance; got != amount {
			t.Errorf("%s: %s, want %s", a, got, amount)
		}
	}
	if err := bank.CheckSupply(h.App.Store()); err != nil {
		t.Fatal(err)
	}
	supply, _ := bank.GetSupply(h.App.Store())
	if supply.String() != "1000000000000000000000" {
		t.Fatalf("supply %s", supply)
	}
}

func TestTransferChargesFeeToTreasury(t *testing.T) {
	h := apptest.New(t)
	alice := apptest.Alice
	before := h.Account(alice.Addr).Balance
	raw := transfer(t, txOpts{from: alice, to: dave.Addr, amount: token.PHA(5)})
	if r := h.Check(raw); r.Code != 0 {
		t.Fatalf("CheckTx: %s", r.Log)
	}
	resp := h.Block(raw)
	if r := resp.TxResults[0]; r.Code != 0 {
		t.Fatalf("FinalizeBlock: %s", r.Log)
	}
	if got := h.Account(dave.Addr).Balance; got != token.PHA(5) {
		t.Fatalf("dave has %s", got)
	}
	spent, _ := before.Sub(h.Account(alice.Addr).Balance)
	if spent != token.PHA(6) {
		t.Fatalf("alice spent %s, want 5 PHA + 1 PHA fee", spent.PHAString())
	}
	if got := h.Account(bankapi.Treasury).Balance; got != token.PHA(1) {
		t.Fatalf("treasury has %s", got)
	}
	if h.Account(alice.Addr).Nonce != 1 {
		t.Fatal("nonce not advanced")
	}
}

func TestMempoolQueuesSequentialNonces(t *testing.T) {
	h := apptest.New(t)
	var txs [][]byte
	for n := uint64(0); n < 3; n++ {
		raw := transfer(t, txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(1), nonce: n})
		if r := h.Check(raw); r.Code != 0 {
			t.Fatalf("nonce %d: %s", n, r.Log)
		}
		txs = append(txs, raw)
	}
	for _, r := range h.Block(txs...).TxResults {
		if r.Code != 0 {
			t.Fatal(r.Log)
		}
	}
	if h.Account(apptest.Alice.Addr).Nonce != 3 {
		t.Fatal("nonces not applied in order")
	}
}

// A transaction refused before its fee is charged (undecodable, bad
// envelope, unaffordable fee) changes nothing; one refused by its method
// pays its fee and uses its nonce, and changes nothing else.
func TestBadTransactionsAreRefused(t *testing.T) {
	poor := apptest.Dev("nobody")
	good := txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(5)}
	// tweaked builds good changed by f.
	tweaked := func(f func(*txOpts)) func(*apptest.Chain) []byte {
		return func(*apptest.Chain) []byte { o := good; f(&o); return transfer(t, o) }
	}
	tests := []struct {
		name string
		raw  func(h *apptest.Chain) []byte
		want error
		// charged: the envelope is sound, so the block charges the fee.
		charged bool
	}{
		{"garbage", func(*apptest.Chain) []byte { return []byte("not a transaction") }, tx.ErrMalformed, false},
		{"empty", func(*apptest.Chain) []byte { return nil }, tx.ErrMalformed, false},
		{"unsigned", func(*apptest.Chain) []byte { return unsigned(t, transfer(t, good)) }, tx.ErrUnsigned, false},
		{"wrongly signed", func(*apptest.Chain) []byte { return resigned(t, transfer(t, good), apptest.Bob.Key) }, tx.ErrBadSignature, false},
		{"wrong chain", tweaked(func(o *txOpts) { o.chainID = "other" }), tx.ErrWrongChain, false},
		{"replayed nonce", func(h *apptest.Chain) []byte {
			raw := transfer(t, good)
			h.Block(raw)
			return raw
		}, tx.ErrNonceTooLow, false},
		{"nonce gap", tweaked(func(o *txOpts) { o.nonce = 7 }), tx.ErrNonceGap, false},
		{"fee too low", tweaked(func(o *txOpts) { o.fee = token.FromUint64(1) }), tx.ErrFeeTooLow, false},
		{"cannot pay fee", tweaked(func(o *txOpts) { o.from = poor }), tx.ErrCannotPayFee, false},
		{"underfunded", tweaked(func(o *txOpts) { o.amount = token.PHA(500_000_000) }), bankapi.ErrInsufficientFunds, true},
		{"below min balance", tweaked(func(o *txOpts) { o.amount = token.FromUint64(1) }), bankapi.ErrBelowMinBalance, true},
		{"zero amount", tweaked(func(o *txOpts) { o.amount = token.Amount{} }), bankapi.ErrInvalidTransfer, true},
		{"to reward pool", tweaked(func(o *txOpts) { o.to = bankapi.RewardPool }), bankapi.ErrInvalidTransfer, true},
		{"unknown method", tweaked(func(o *txOpts) { o.method = "bank.mint" }), tx.ErrUnknownMethod, false},
		{"gas limit too low", tweaked(func(o *txOpts) { o.gas = 1 }), tx.ErrOutOfGas, false},
		{"oversized", func(*apptest.Chain) []byte {
			raw := transfer(t, good)
			return append(raw, make([]byte, 70_000)...)
		}, tx.ErrTooLarge, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := apptest.New(t)
			raw := tc.raw(h)
			if tc.charged {
				h.MustRefuseCharged(raw, tc.want)
				return
			}
			nothing := h.NothingWritten()
			h.MustRefuse(raw, tc.want)
			h.MustWrite(nothing)
		})
	}
}

// TestEmptyBlockWritesOnlyItsHash: an empty block writes nothing but its
// own hash (for attestation freshness), which moves the app hash.
func TestEmptyBlockWritesOnlyItsHash(t *testing.T) {
	h := apptest.New(t)
	first := h.Block()
	nothing := h.NothingWritten()
	second := h.Block()
	h.MustWrite(nothing)
	if bytes.Equal(first.AppHash, second.AppHash) {
		t.Fatal("an empty block kept the app hash, though it records its block hash")
	}
	third := h.Block(transfer(t, txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(1)}))
	if bytes.Equal(third.AppHash, second.AppHash) {
		t.Fatal("a transfer did not change the app hash")
	}
}

func TestRestartResumesFromCommittedState(t *testing.T) {
	h := apptest.New(t)
	alice := apptest.Alice
	resp := h.Block(transfer(t, txOpts{from: alice, to: dave.Addr, amount: token.PHA(2)}))
	// A block finalized but not committed (crash before Commit) leaves no trace.
	h.App.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: 2, Txs: [][]byte{transfer(t, txOpts{from: alice, to: dave.Addr, amount: token.PHA(2), nonce: 1})}})
	h.App.Close()

	a, err := app.New(apptest.ChainID, h.Dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	info, _ := a.Info(context.Background(), &abci.InfoRequest{})
	if info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, resp.AppHash) {
		t.Fatalf("info after restart: %d %x", info.LastBlockHeight, info.LastBlockAppHash)
	}
	acc, _ := bank.GetAccount(a.Store(), dave.Addr)
	if acc.Balance != token.PHA(2) {
		t.Fatalf("dave has %s after restart", acc.Balance)
	}
	if _, err := app.New("another-chain", t.TempDir(), slog.Default()); err != nil {
		t.Fatal(err)
	}
}

func TestGenesisValidation(t *testing.T) {
	alice, bob, carol := apptest.Alice, apptest.Bob, apptest.Carol
	tests := []struct {
		name   string
		mutate func(g *bank.Genesis)
	}{
		{"supply not 1e9 PHA", func(g *bank.Genesis) { g.TotalSupply = token.PHA(5) }},
		{"sum differs", func(g *bank.Genesis) { g.Allocations[2].Amount = token.PHA(1) }},
		{"pool to a key", func(g *bank.Genesis) { g.Allocations[0].Address = alice.Addr; g.Allocations[2].Address = dave.Addr }},
		{"unknown purpose", func(g *bank.Genesis) { g.Allocations[3].Purpose = "airdrop" }},
		{"duplicate address", func(g *bank.Genesis) { g.Allocations[4].Address = bob.Addr }},
		{"fee above its bound", func(g *bank.Genesis) { g.Params.BaseFee = token.PHA(1_001) }},
		{"no minimum balance", func(g *bank.Genesis) { g.Params.MinBalance = token.Amount{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := bank.DefaultGenesis(alice.Addr, bob.Addr, carol.Addr)
			tc.mutate(&b)
			g, _ := app.DefaultGenesis(b, registryapi.DefaultGenesis(true))
			if err := initChain(t, apptest.GenesisJSON(t, g)); err == nil {
				t.Fatal("invalid genesis accepted")
			}
		})
	}
	for _, raw := range []string{`not json`, `{}`, `{"chain":{"max_tx_bytes":1}}`, `{"chain":{"max_tx_bytes":1},"bank":{},"extra":{}}`} {
		if err := initChain(t, []byte(raw)); err == nil {
			t.Errorf("genesis %s accepted", raw)
		}
	}
}

// initChain starts a fresh application from the app_state raw.
func initChain(t *testing.T, raw []byte) error {
	t.Helper()
	a, err := app.New(apptest.ChainID, t.TempDir(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: apptest.ChainID, AppStateBytes: raw})
	return err
}

func TestQueries(t *testing.T) {
	h := apptest.New(t)
	var info bankapi.AccountInfo
	if err := h.Query(bankapi.QueryAccount, apptest.Alice.Addr[:], &info); err != nil || !info.Exists || info.Balance != token.PHA(100_000_000) {
		t.Fatalf("account query: %v %+v", err, info)
	}
	var s bankapi.SupplyInfo
	if err := h.Query("/"+bankapi.QuerySupply, nil, &s); err != nil || s.Total != bankapi.TotalSupply {
		t.Fatalf("supply query: %v %+v", err, s)
	}
	for _, q := range []abci.QueryRequest{{Path: "nope/x"}, {Path: bankapi.QueryAccount, Data: []byte{1}}} {
		resp, _ := h.App.Query(context.Background(), &q)
		if resp.Code == 0 || resp.Log == "" {
			t.Errorf("query %q accepted", q.Path)
		}
	}
}

// TestStartupCheckFindsTreeMetaMismatch: a committed app hash that the
// state tree's root does not give (a hand-edited or half-restored store)
// stops the node before it starts; an honest store passes.
func TestStartupCheckFindsTreeMetaMismatch(t *testing.T) {
	h := apptest.New(t)
	h.Block(transfer(t, txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(2)}))
	h.Block()
	if err := h.App.CheckStartup(); err != nil {
		t.Fatalf("honest store refused: %v", err)
	}
	h.App.Close()

	editMeta(t, h.Dir, func(m *store.Meta) { m.AppHash[0] ^= 1 })
	a, err := app.New(apptest.ChainID, h.Dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.CheckStartup(); !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "state tree's root") {
		t.Fatalf("CheckStartup = %v, want damage naming the state tree's root", err)
	}
}

// editMeta rewrites the store's meta record in place, as a hand edit would.
func editMeta(t *testing.T, dir string, edit func(*store.Meta)) {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Meta()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	edit(&m)
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	metaKey := []byte{state.ModuleMeta, 0x01} // chain/store's meta record
	if err := db.Set(metaKey, codec.MustMarshal(m), pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestInitChainAgainAfterCrash: CometBFT calls InitChain again when the
// application restarts before block 1 committed; the committed genesis
// stands and its app hash is answered again, and block 1 then runs.
func TestInitChainAgainAfterCrash(t *testing.T) {
	dir := t.TempDir()
	req := &abci.InitChainRequest{ChainId: apptest.ChainID, Time: time.Unix(1, 0), AppStateBytes: apptest.GenesisJSON(t, apptest.Genesis(t, false))}
	a, err := app.New(apptest.ChainID, dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.InitChain(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if a, err = app.New(apptest.ChainID, dir, slog.Default()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	again, err := a.InitChain(context.Background(), req)
	if err != nil || !bytes.Equal(again.AppHash, first.AppHash) {
		t.Fatalf("InitChain again: %v, hash %x want %x", err, again.GetAppHash(), first.AppHash)
	}
	if _, err := a.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: 1, Time: time.Unix(2, 0), Hash: make([]byte, 32)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
}
