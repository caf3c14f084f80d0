// Package contracttest runs an example contract in the VM for its tests:
// the contract is built once per test process and compiled once (wazero's
// cache in a temp dir).
package contracttest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/phala-go/phala/sdk"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/vm/wasmbuild"
)

// GasLimit is generous: tests check behaviour, the vm tests check gas.
const GasLimit = 200_000_000

var (
	once    sync.Once
	tmp     string
	engine  *vm.Engine
	module  *vm.Module
	loadErr error
)

// Main wraps testing.M: it removes the build and cache directory after.
func Main(m *testing.M) {
	code := m.Run()
	if engine != nil {
		_ = engine.Close(context.Background())
	}
	if tmp != "" {
		_ = os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// Contract is one deployed instance of the package's contract.
type Contract struct {
	t      testing.TB
	inst   *vm.Instance
	Store  *vm.MemStore
	Height int64
	nonce  uint64
	// Balance is the contract's account as the workers count it: the
	// value of the commands that succeeded, less their payouts.
	Balance token.Amount
}

// Deploy builds (once) the contract in the test's working directory and
// starts a fresh instance with an empty store.
func Deploy(t testing.TB) *Contract {
	t.Helper()
	once.Do(func() {
		ctx := context.Background()
		if tmp, loadErr = os.MkdirTemp("", "contracttest"); loadErr != nil {
			return
		}
		var code []byte
		dir, _ := filepath.Abs(".")
		if code, loadErr = wasmbuild.NewCache(tmp).Code(ctx, dir); loadErr != nil {
			return
		}
		if engine, loadErr = vm.New(ctx, vm.Config{CacheDir: filepath.Join(tmp, "cache")}); loadErr != nil {
			return
		}
		module, loadErr = engine.Load(ctx, code)
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	store := vm.NewMemStore()
	inst := module.NewInstance(vm.Env{
		ContractID: []byte("contract-1"),
		Store:      store,
		Seed:       []byte("test seed"),
		DeriveKey: func(purpose string) (ed25519.PrivateKey, error) {
			s := sha256.Sum256([]byte("contract-1/" + purpose))
			return ed25519.NewKeyFromSeed(s[:]), nil
		},
	})
	t.Cleanup(func() { _ = inst.Close(context.Background()) })
	return &Contract{t: t, inst: inst, Store: store, Height: 1}
}

// Command runs method as caller; the block height advances by one.
func (c *Contract) Command(caller, method string, args any) (vm.Result, error) {
	return c.CommandValue(caller, method, args, token.Amount{})
}

// CommandValue runs method as caller sending value, and books the value
// and the payouts on Balance if it succeeds, as the workers do.
func (c *Contract) CommandValue(caller, method string, args any, value token.Amount) (vm.Result, error) {
	c.Height++
	res, err := c.call(vm.Command, caller, method, args, value)
	if err != nil {
		return res, err
	}
	bal, err := c.Balance.Add(value)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, p := range res.Payouts {
		if bal, err = bal.Sub(p.Amount); err != nil {
			c.t.Fatalf("the VM let %s pay %s beyond its balance", method, p.Amount)
		}
	}
	c.Balance = bal
	return res, nil
}

// Query runs a read-only method as caller at the current height.
func (c *Contract) Query(caller, method string, args any) (vm.Result, error) {
	return c.call(vm.Query, caller, method, args, token.Amount{})
}

func (c *Contract) call(mode vm.Mode, caller, method string, args any, value token.Amount) (vm.Result, error) {
	c.t.Helper()
	in, err := sdk.EncodeMessage(method, args)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nonce++
	return c.inst.Call(context.Background(), vm.Call{
		Mode: mode, Caller: []byte(caller), Height: c.Height, Time: c.Height * 6e9,
		Nonce: c.nonce, Input: in, GasLimit: GasLimit, Value: value, Balance: c.Balance,
	})
}

// Addr is the hex address the contract sees for a test caller name.
func Addr(caller string) string { return sdk.Address(caller).String() }

// Account is a test account's address for payouts (which go to 20-byte
// addresses): its name, padded with zeros. Pass it as the caller name.
func Account(name string) string {
	b := make([]byte, vm.AddressBytes)
	copy(b, name)
	return string(b)
}

// Step is one call of a scripted test: who calls which method with what
// (and with what value, for a command), as a command or a query, and the
// output it must return (empty: any) or the revert message it must
// contain.
type Step struct {
	Name, Caller, Method string
	Args                 any
	Query                bool
	Want, Err            string
	Value                token.Amount
}

// Paying is s sending value.
func (s Step) Paying(value token.Amount) Step { s.Value = value; return s }

// Run plays the steps in order as subtests on c. check, if not nil, looks
// further at each successful result.
func (c *Contract) Run(t *testing.T, steps []Step, check func(t *testing.T, s Step, res vm.Result)) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.Name, func(t *testing.T) {
			call := func(caller, method string, args any) (vm.Result, error) {
				return c.CommandValue(caller, method, args, s.Value)
			}
			if s.Query {
				call = c.Query
			}
			res, err := call(s.Caller, s.Method, s.Args)
			if s.Err != "" {
				if !errors.Is(err, vm.ErrReverted) || !strings.Contains(err.Error(), s.Err) {
					t.Fatalf("got %v, want revert %q", err, s.Err)
				}
				return
			}
			if err != nil || (s.Want != "" && string(res.Output) != s.Want) {
				t.Fatalf("got %s, %v; want %s", res.Output, err, s.Want)
			}
			if check != nil {
				check(t, s, res)
			}
		})
	}
}

// S builds a Step (table rows stay one short line each).
func S(name, caller, method string, args any, query bool, want, err string) Step {
	return Step{Name: name, Caller: caller, Method: method, Args: args, Query: query, Want: want, Err: err}
}
