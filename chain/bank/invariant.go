package bank

import (
	"fmt"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// CheckSupply verifies the invariant that the committed balances sum to the
// recorded total supply. It reads every account, so it is for tests and
// operator checks, not for every block.
func CheckSupply(s state.IterReader) error {
	total, err := GetSupply(s)
	if err != nil {
		return err
	}
	sum := token.Amount{}
	err = s.Iterate(accountKey.Prefix(), func(_, v []byte) error {
		var acc bankapi.Account
		if err := codec.Unmarshal(v, &acc); err != nil {
			return err
		}
		sum, err = sum.Add(acc.Balance)
		return err
	})
	if err != nil {
		return fmt.Errorf("supply check: %w", err)
	}
	if sum != total {
		return fmt.Errorf("supply invariant broken: balances sum to %s, supply is %s", sum, total)
	}
	return nil
}
