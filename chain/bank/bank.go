// Package bank is the PHA token: accounts with balances and nonces, fees,
// transfers and the fixed total supply.
package bank

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// Module is the bank.
type Module struct{}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return bankapi.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: bankapi.MethodTransfer, Gas: bankapi.TransferGas, Handle: handleTransfer},
		{Name: bankapi.MethodSetParams, Gas: bankapi.SetParamsGas, Authority: true, Handle: setParams.Handle},
	}
}

// InitGenesis implements module.Module.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g Genesis
	if err := json.Unmarshal(raw, &g); err != nil {
		return fmt.Errorf("bank genesis: %w", err)
	}
	if err := g.Validate(); err != nil {
		return err
	}
	ctx.Store.Set(paramsKey.Key(), codec.MustMarshal(g.Params))
	ctx.Store.Set(supplyKey.Key(), codec.MustMarshal(g.TotalSupply))
	for _, a := range g.Allocations {
		putAccount(ctx.Store, a.Address, bankapi.Account{Balance: a.Amount})
	}
	return nil
}

func handleTransfer(ctx *module.Context, body []byte) error {
	var t bankapi.Transfer
	if err := codec.UnmarshalCanonical(body, &t); err != nil {
		return bankapi.ErrInvalidTransfer.Wrapf("body: %v", err)
	}
	if t.Amount.IsZero() {
		return bankapi.ErrInvalidTransfer.Wrapf("amount is zero")
	}
	if t.To == bankapi.RewardPool {
		return bankapi.ErrInvalidTransfer.Wrapf("the reward pool only receives by genesis")
	}
	if err := Move(ctx.Store, ctx.Sender, t.To, t.Amount); err != nil {
		return err
	}
	ctx.Emit("transfer", module.A("from", ctx.Sender), module.A("to", t.To), module.A("amount", t.Amount))
	return nil
}

// Move transfers amount between accounts, creating the recipient if it
// reaches the minimum balance. Nothing leaves bankapi.Burned.
func Move(s *state.Overlay, from, to address.Address, amount token.Amount) error {
	if from == bankapi.Burned {
		return bankapi.ErrInsufficientFunds.Wrapf("burned PHA cannot be spent")
	}
	src, err := GetAccount(s, from)
	if err != nil {
		return err
	}
	if src.Balance, err = src.Balance.Sub(amount); err != nil {
		return bankapi.ErrInsufficientFunds.Wrapf("%s has less than %s", from, amount.PHAString())
	}
	putAccount(s, from, src)
	dst, exists, err := getAccount(s, to)
	if err != nil {
		return err
	}
	if !exists {
		p, err := GetParams(s)
		if err != nil {
			return err
		}
		if amount.Cmp(p.MinBalance) < 0 {
			return bankapi.ErrBelowMinBalance.Wrapf("%s would create %s, minimum %s", amount.PHAString(), to, p.MinBalance.PHAString())
		}
	}
	if dst.Balance, err = dst.Balance.Add(amount); err != nil {
		return bankapi.ErrCorruptState.Wrapf("balance overflow: %v", err)
	}
	putAccount(s, to, dst)
	return nil
}

// ChargeFee moves the fee from payer to the treasury and advances the
// payer's nonce: the "charge" step every transaction goes through.
func ChargeFee(s *state.Overlay, payer address.Address, fee token.Amount) error {
	acc, exists, err := getAccount(s, payer)
	if err != nil {
		return err
	}
	if !exists {
		return bankapi.ErrInsufficientFunds.Wrapf("account %s does not exist", payer)
	}
	if acc.Balance, err = acc.Balance.Sub(fee); err != nil {
		return bankapi.ErrInsufficientFunds.Wrapf("%s cannot pay the fee of %s", payer, fee.PHAString())
	}
	acc.Nonce++
	putAccount(s, payer, acc)
	treasury, _, err := getAccount(s, bankapi.Treasury)
	if err != nil {
		return err
	}
	if treasury.Balance, err = treasury.Balance.Add(fee); err != nil {
		return bankapi.ErrCorruptState.Wrapf("treasury overflow")
	}
	putAccount(s, bankapi.Treasury, treasury)
	return nil
}

// OpenModuleAccount creates a keyless module account (an escrow, a
// contract's own account) with a zero balance, exempt from the minimum
// balance that keeps users from spamming accounts: a module opens them, and
// small amounts must be able to reach them. Opening one that exists does
// nothing.
func OpenModuleAccount(s *state.Overlay, a address.Address) error {
	if _, ok, err := getAccount(s, a); err != nil || ok {
		return err
	}
	putAccount(s, a, bankapi.Account{})
	return nil
}

// GetAccount reads an account; a missing one reads as empty.
func GetAccount(r state.Reader, a address.Address) (bankapi.Account, error) {
	acc, _, err := getAccount(r, a)
	return acc, err
}

func getAccount(r state.Reader, a address.Address) (bankapi.Account, bool, error) {
	b, err := r.Get(accountKeyOf(a))
	if err != nil || b == nil {
		return bankapi.Account{}, false, err
	}
	var acc bankapi.Account
	if err := codec.Unmarshal(b, &acc); err != nil {
		return bankapi.Account{}, false, bankapi.ErrCorruptState.Wrapf("account %s: %v", a, err)
	}
	return acc, true, nil
}

func putAccount(s *state.Overlay, a address.Address, acc bankapi.Account) {
	s.Set(accountKeyOf(a), codec.MustMarshal(acc))
}

// GetParams reads the fee and account rules.
func GetParams(r state.Reader) (bankapi.Params, error) {
	b, err := r.Get(paramsStoreKey)
	if err != nil {
		return bankapi.Params{}, err
	}
	if b == nil {
		return bankapi.Params{}, bankapi.ErrCorruptState.Wrapf("no params (chain not initialised)")
	}
	if c := lastParams.Load(); c != nil && bytes.Equal(c.raw, b) {
		return c.params, nil
	}
	var p bankapi.Params
	if err := codec.Unmarshal(b, &p); err != nil {
		return p, bankapi.ErrCorruptState.Wrapf("params: %v", err)
	}
	lastParams.Store(&decodedParams{raw: bytes.Clone(b), params: p})
	return p, nil
}

// paramsStoreKey is paramsKey.Key(), built once: every transaction reads it.
var paramsStoreKey = paramsKey.Key()

// decodedParams pairs stored params bytes with their decoding.
type decodedParams struct {
	raw    []byte
	params bankapi.Params
}

// lastParams remembers the last params GetParams decoded, keyed by their
// exact stored bytes, so the per-transaction read costs a compare instead of
// a decode. Comparing the bytes read from the store each time means a write
// (genesis, a future governance change, another chain in the same process)
// can never serve stale params: different bytes simply decode again.
var lastParams atomic.Pointer[decodedParams]

// GetSupply reads the recorded total supply.
func GetSupply(r state.Reader) (token.Amount, error) {
	var a token.Amount
	b, err := r.Get(supplyKey.Key())
	if err != nil || b == nil {
		return a, err
	}
	if err := codec.Unmarshal(b, &a); err != nil {
		return a, bankapi.ErrCorruptState.Wrapf("supply: %v", err)
	}
	return a, nil
}
