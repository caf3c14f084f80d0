package bank

import (
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case bankapi.QueryAccount:
		a, err := address.FromBytes(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%v", err)
		}
		acc, exists, err := getAccount(r, a)
		if err != nil {
			return nil, err
		}
		return bankapi.AccountInfo{Address: a, Balance: acc.Balance, Nonce: acc.Nonce, Exists: exists}, nil
	case bankapi.QuerySupply:
		return supplyInfo(r)
	case bankapi.QueryParams:
		return GetParams(r)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func supplyInfo(r state.Reader) (bankapi.SupplyInfo, error) {
	total, err := GetSupply(r)
	if err != nil {
		return bankapi.SupplyInfo{}, err
	}
	pool, err := GetAccount(r, bankapi.RewardPool)
	if err != nil {
		return bankapi.SupplyInfo{}, err
	}
	treasury, err := GetAccount(r, bankapi.Treasury)
	if err != nil {
		return bankapi.SupplyInfo{}, err
	}
	burned, err := GetAccount(r, bankapi.Burned)
	if err != nil {
		return bankapi.SupplyInfo{}, err
	}
	return bankapi.SupplyInfo{Total: total, RewardPool: pool.Balance, Treasury: treasury.Balance, Burned: burned.Balance}, nil
}
