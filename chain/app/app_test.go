package app

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

const testChain = "phala-test"

type account struct {
	key  ed25519.PrivateKey
	addr address.Address
}

func devAccount(name string) account {
	k := ed25519.NewKeyFromSeed(keyring.DevSeed(name))
	return account{key: k, addr: address.FromPublicKey(k.Public().(ed25519.PublicKey))}
}

// harness drives the application through ABCI like CometBFT does and checks
// the supply invariant after every block.
type harness struct {
	t      *testing.T
	app    *App
	dir    string
	height int64
	now    time.Time // block time of the next block; advances a second per block
}

func genesisBytes(t testing.TB, alice, bob, carol account) []byte {
	g, err := DefaultGenesis(bank.DefaultGenesis(alice.addr, bob.addr, carol.addr), registryapi.DefaultGenesis(alice.addr, true))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	a, err := New(testChain, dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	_, err = a.InitChain(context.Background(), &abci.InitChainRequest{
		ChainId: testChain, Time: time.Unix(1, 0),
		AppStateBytes: genesisBytes(t, devAccount("alice"), devAccount("bob"), devAccount("carol")),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, app: a, dir: dir, now: time.Unix(1_700_000_000, 0)}
}

func (h *harness) block(txs ...[]byte) *abci.FinalizeBlockResponse {
	h.t.Helper()
	h.height++
	h.now = h.now.Add(time.Second)
	hash := sha256.Sum256([]byte(fmt.Sprint("block", h.height)))
	resp, err := h.app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: h.height, Time: h.now, Hash: hash[:], Txs: txs})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.app.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
		h.t.Fatal(err)
	}
	if err := bank.CheckSupply(h.app.Store()); err != nil {
		h.t.Fatalf("after block %d: %v", h.height, err)
	}
	return resp
}

func (h *harness) check(raw []byte) *abci.CheckTxResponse {
	resp, err := h.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: raw, Type: abci.CHECK_TX_TYPE_CHECK})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func (h *harness) account(a address.Address) bankapi.Account {
	acc, err := bank.GetAccount(h.app.Store(), a)
	if err != nil {
		h.t.Fatal(err)
	}
	return acc
}

// txOpts describe one transfer; zero fields take working defaults.
type txOpts struct {
	from    account
	to      address.Address
	amount  token.Amount
	nonce   uint64
	fee     token.Amount
	gas     uint64
	chainID string
	method  string
}

func transfer(t testing.TB, o txOpts) []byte {
	if o.chainID == "" {
		o.chainID = testChain
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
	env, err := tx.New(o.chainID, o.from.key.Public().(ed25519.PublicKey), o.nonce, o.fee, o.gas, o.method, bankapi.Transfer{To: o.to, Amount: o.amount})
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Sign(o.from.key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenesisSupplyAndAllocation(t *testing.T) {
	h := newHarness(t)
	alice, bob, carol := devAccount("alice"), devAccount("bob"), devAccount("carol")
	pct := func(p uint64) token.Amount { return token.PHA(10_000_000 * p) }
	want := map[address.Address]token.Amount{
		bankapi.RewardPool: pct(70), bankapi.Community: pct(9),
		alice.addr: pct(10), bob.addr: pct(6), carol.addr: pct(5),
	}
	for a, amount := range want {
		if got := h.account(a).Balance; got != amount {
			t.Errorf("%s: %s, want %s", a, got, amount)
		}
	}
	if err := bank.CheckSupply(h.app.Store()); err != nil {
		t.Fatal(err)
	}
	supply, _ := bank.GetSupply(h.app.Store())
	if supply.String() != "1000000000000000000000" {
		t.Fatalf("supply %s", supply)
	}
}

func TestTransferChargesFeeToTreasury(t *testing.T) {
	h := newHarness(t)
	alice, dave := devAccount("alice"), devAccount("dave")
	before := h.account(alice.addr).Balance
	raw := transfer(t, txOpts{from: alice, to: dave.addr, amount: token.PHA(5)})
	if r := h.check(raw); r.Code != 0 {
		t.Fatalf("CheckTx: %s", r.Log)
	}
	resp := h.block(raw)
	if r := resp.TxResults[0]; r.Code != 0 {
		t.Fatalf("FinalizeBlock: %s", r.Log)
	}
	if got := h.account(dave.addr).Balance; got != token.PHA(5) {
		t.Fatalf("dave has %s", got)
	}
	spent, _ := before.Sub(h.account(alice.addr).Balance)
	if spent != token.PHA(6) {
		t.Fatalf("alice spent %s, want 5 PHA + 1 PHA fee", spent.PHAString())
	}
	if got := h.account(bankapi.Treasury).Balance; got != token.PHA(1) {
		t.Fatalf("treasury has %s", got)
	}
	if h.account(alice.addr).Nonce != 1 {
		t.Fatal("nonce not advanced")
	}
}

func TestMempoolQueuesSequentialNonces(t *testing.T) {
	h := newHarness(t)
	alice, dave := devAccount("alice"), devAccount("dave")
	var txs [][]byte
	for n := uint64(0); n < 3; n++ {
		raw := transfer(t, txOpts{from: alice, to: dave.addr, amount: token.PHA(1), nonce: n})
		if r := h.check(raw); r.Code != 0 {
			t.Fatalf("nonce %d: %s", n, r.Log)
		}
		txs = append(txs, raw)
	}
	for _, r := range h.block(txs...).TxResults {
		if r.Code != 0 {
			t.Fatal(r.Log)
		}
	}
	if h.account(alice.addr).Nonce != 3 {
		t.Fatal("nonces not applied in order")
	}
}

func TestBadTransactionsAreRefusedAndChangeNothing(t *testing.T) {
	alice, bob, dave, poor := devAccount("alice"), devAccount("bob"), devAccount("dave"), devAccount("nobody")
	good := txOpts{from: alice, to: dave.addr, amount: token.PHA(5)}
	with := func(f func(*txOpts)) txOpts { o := good; f(&o); return o }
	signedBy := func(o txOpts, key ed25519.PrivateKey) []byte {
		s, _ := tx.Decode(transfer(t, o))
		b, _ := s.Envelope.Sign(key)
		return b
	}
	tests := []struct {
		name string
		raw  func(h *harness) []byte
		want error
	}{
		{"garbage", func(*harness) []byte { return []byte("not a transaction") }, tx.ErrMalformed},
		{"empty", func(*harness) []byte { return nil }, tx.ErrMalformed},
		{"unsigned", func(*harness) []byte {
			s, _ := tx.Decode(transfer(t, good))
			s.Signature = nil
			return codec.MustMarshal(s)
		}, tx.ErrUnsigned},
		{"wrongly signed", func(*harness) []byte { return signedBy(good, bob.key) }, tx.ErrBadSignature},
		{"wrong chain", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.chainID = "other" })) }, tx.ErrWrongChain},
		{"replayed nonce", func(h *harness) []byte {
			raw := transfer(t, good)
			h.block(raw)
			return raw
		}, tx.ErrNonceTooLow},
		{"nonce gap", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.nonce = 7 })) }, tx.ErrNonceGap},
		{"fee too low", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.fee = token.FromUint64(1) })) }, tx.ErrFeeTooLow},
		{"cannot pay fee", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.from = poor })) }, tx.ErrCannotPayFee},
		{"underfunded", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.amount = token.PHA(500_000_000) })) }, bankapi.ErrInsufficientFunds},
		{"below min balance", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.amount = token.FromUint64(1) })) }, bankapi.ErrBelowMinBalance},
		{"zero amount", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.amount = token.Amount{} })) }, bankapi.ErrInvalidTransfer},
		{"to reward pool", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.to = bankapi.RewardPool })) }, bankapi.ErrInvalidTransfer},
		{"unknown method", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.method = "bank.mint" })) }, tx.ErrUnknownMethod},
		{"gas limit too low", func(*harness) []byte { return transfer(t, with(func(o *txOpts) { o.gas = 1 })) }, tx.ErrOutOfGas},
		{"oversized", func(*harness) []byte {
			raw := transfer(t, good)
			return append(raw, make([]byte, 70_000)...)
		}, tx.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			raw := tc.raw(h)
			hashBefore, _ := h.app.Info(context.Background(), nil)
			resp, _ := h.refusedTwice(t, raw, tc.want)
			if string(resp.AppHash) != string(hashBefore.LastBlockAppHash) {
				t.Fatal("a refused transaction changed the app hash")
			}
		})
	}
}

// refusedTwice runs raw through CheckTx and then, as a proposer may
// include it anyway, through a block; both must refuse it with want. It
// returns the block and the transaction's result in it.
func (h *harness) refusedTwice(t *testing.T, raw []byte, want error) (*abci.FinalizeBlockResponse, *abci.ExecTxResult) {
	t.Helper()
	if r := h.check(raw); !matches(r.Codespace, r.Code, r.Log, want) {
		t.Fatalf("CheckTx: %s/%d %q, want %v", r.Codespace, r.Code, r.Log, want)
	}
	resp := h.block(raw)
	r := resp.TxResults[0]
	if !matches(r.Codespace, r.Code, r.Log, want) {
		t.Fatalf("FinalizeBlock: %s/%d %q, want %v", r.Codespace, r.Code, r.Log, want)
	}
	return resp, r
}

func matches(space string, code uint32, log string, want error) bool {
	return code != 0 && log != "" && errors.Is(errs.FromWire(space, code, log), want)
}

func TestEmptyBlockKeepsAppHash(t *testing.T) {
	h := newHarness(t)
	first := h.block()
	second := h.block()
	if string(first.AppHash) != string(second.AppHash) {
		t.Fatal("empty blocks changed the app hash")
	}
	alice, dave := devAccount("alice"), devAccount("dave")
	third := h.block(transfer(t, txOpts{from: alice, to: dave.addr, amount: token.PHA(1)}))
	if string(third.AppHash) == string(second.AppHash) {
		t.Fatal("a transfer did not change the app hash")
	}
}

func TestRestartResumesFromCommittedState(t *testing.T) {
	h := newHarness(t)
	alice, dave := devAccount("alice"), devAccount("dave")
	resp := h.block(transfer(t, txOpts{from: alice, to: dave.addr, amount: token.PHA(2)}))
	// A block finalized but not committed (crash before Commit) leaves no trace.
	h.app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: 2, Txs: [][]byte{transfer(t, txOpts{from: alice, to: dave.addr, amount: token.PHA(2), nonce: 1})}})
	h.app.Close()

	a, err := New(testChain, h.dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	info, _ := a.Info(context.Background(), &abci.InfoRequest{})
	if info.LastBlockHeight != 1 || string(info.LastBlockAppHash) != string(resp.AppHash) {
		t.Fatalf("info after restart: %d %x", info.LastBlockHeight, info.LastBlockAppHash)
	}
	acc, _ := bank.GetAccount(a.Store(), dave.addr)
	if acc.Balance != token.PHA(2) {
		t.Fatalf("dave has %s after restart", acc.Balance)
	}
	if _, err := New("another-chain", t.TempDir(), slog.Default()); err != nil {
		t.Fatal(err)
	}
}

func TestGenesisValidation(t *testing.T) {
	alice, bob, carol := devAccount("alice"), devAccount("bob"), devAccount("carol")
	tests := []struct {
		name   string
		mutate func(g *bank.Genesis)
	}{
		{"supply not 1e9 PHA", func(g *bank.Genesis) { g.TotalSupply = token.PHA(5) }},
		{"sum differs", func(g *bank.Genesis) { g.Allocations[2].Amount = token.PHA(1) }},
		{"pool to a key", func(g *bank.Genesis) { g.Allocations[0].Address = alice.addr; g.Allocations[2].Address = dave().addr }},
		{"unknown purpose", func(g *bank.Genesis) { g.Allocations[3].Purpose = "airdrop" }},
		{"duplicate address", func(g *bank.Genesis) { g.Allocations[4].Address = bob.addr }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := bank.DefaultGenesis(alice.addr, bob.addr, carol.addr)
			tc.mutate(&b)
			g, _ := DefaultGenesis(b, registryapi.DefaultGenesis(alice.addr, true))
			raw, _ := json.Marshal(g)
			a, err := New(testChain, t.TempDir(), slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, AppStateBytes: raw}); err == nil {
				t.Fatal("invalid genesis accepted")
			}
		})
	}
	for _, raw := range []string{`not json`, `{}`, `{"chain":{"max_tx_bytes":1}}`, `{"chain":{"max_tx_bytes":1},"bank":{},"extra":{}}`} {
		a, _ := New(testChain, t.TempDir(), slog.Default())
		if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, AppStateBytes: []byte(raw)}); err == nil {
			t.Errorf("genesis %s accepted", raw)
		}
		a.Close()
	}
}

func dave() account { return devAccount("dave") }

func TestQueries(t *testing.T) {
	h := newHarness(t)
	alice := devAccount("alice")
	resp, _ := h.app.Query(context.Background(), &abci.QueryRequest{Path: bankapi.QueryAccount, Data: alice.addr[:]})
	var info bankapi.AccountInfo
	if err := codec.Unmarshal(resp.Value, &info); err != nil || !info.Exists || info.Balance != token.PHA(100_000_000) {
		t.Fatalf("account query: %v %+v", err, info)
	}
	resp, _ = h.app.Query(context.Background(), &abci.QueryRequest{Path: "/" + bankapi.QuerySupply})
	var s bankapi.SupplyInfo
	if err := codec.Unmarshal(resp.Value, &s); err != nil || s.Total != bankapi.TotalSupply {
		t.Fatalf("supply query: %v %+v", err, s)
	}
	for _, q := range []abci.QueryRequest{{Path: "nope/x"}, {Path: bankapi.QueryAccount, Data: []byte{1}}} {
		resp, _ := h.app.Query(context.Background(), &q)
		if resp.Code == 0 || resp.Log == "" {
			t.Errorf("query %q accepted", q.Path)
		}
	}
}
