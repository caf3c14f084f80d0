// Command token is a confidential token: balances live in contract-private
// storage, transfers are events sealed to sender and recipient, and only an
// account itself can read its balance (through an authenticated query).
package main

import (
	"encoding/json"
	"errors"

	"github.com/phala-go/phala/sdk"
)

var (
	balances = sdk.NewMap[uint64]("bal")
	supply   = sdk.NewValue[uint64]("supply")
)

// MintArgs creates the supply once, owned by the caller.
type MintArgs struct {
	Supply uint64 `json:"supply"`
}

// TransferArgs moves Amount from the caller to To.
type TransferArgs struct {
	To     sdk.Address `json:"to"`
	Amount uint64      `json:"amount"`
}

// Transfer is the event data, sealed to both parties.
type Transfer struct {
	From   sdk.Address `json:"from"`
	To     sdk.Address `json:"to"`
	Amount uint64      `json:"amount"`
}

func init() {
	sdk.Command("init", mint)
	sdk.Command("transfer", transfer)
	sdk.Query("balance", balance)
	sdk.Query("total_supply", func(sdk.Empty) (uint64, error) { s, _, err := supply.Get(); return s, err })
}

func mint(a MintArgs) (sdk.Empty, error) {
	if _, done, err := supply.Get(); err != nil || done {
		return sdk.Empty{}, errors.Join(err, errors.New("already initialised"))
	}
	if err := supply.Set(a.Supply); err != nil {
		return sdk.Empty{}, err
	}
	return sdk.Empty{}, balances.Set(sdk.CallerAddress().Key(), a.Supply)
}

func transfer(a TransferArgs) (uint64, error) {
	from := sdk.CallerAddress()
	if len(a.To) == 0 || a.Amount == 0 {
		return 0, errors.New("transfer needs a recipient and a positive amount")
	}
	fb, _, err := balances.Get(from.Key())
	if err != nil {
		return 0, err
	}
	if fb < a.Amount {
		return 0, errors.New("insufficient balance")
	}
	if string(a.To) == string(from) {
		return fb, nil
	}
	tb, _, err := balances.Get(a.To.Key())
	if err != nil {
		return 0, err
	}
	if tb+a.Amount < tb {
		return 0, errors.New("balance overflow")
	}
	if err := balances.Set(from.Key(), fb-a.Amount); err != nil {
		return 0, err
	}
	if err := balances.Set(a.To.Key(), tb+a.Amount); err != nil {
		return 0, err
	}
	ev, err := json.Marshal(Transfer{From: from, To: a.To, Amount: a.Amount})
	if err != nil {
		return 0, err
	}
	sdk.EmitTo("token.transfer", ev, from, a.To)
	return fb - a.Amount, nil
}

// balance answers only the caller's own balance: there is no way to ask
// for another account's.
func balance(sdk.Empty) (uint64, error) {
	b, _, err := balances.Get(sdk.CallerAddress().Key())
	return b, err
}

func main() {}
