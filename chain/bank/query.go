package bank

import (
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case QueryAccount:
		a, err := address.FromBytes(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%v", err)
		}
		acc, exists, err := getAccount(r, a)
		if err != nil {
			return nil, err
		}
		return AccountInfo{Address: a, Balance: acc.Balance, Nonce: acc.Nonce, Exists: exists}, nil
	case QuerySupply:
		return supplyInfo(r)
	case QueryParams:
		return GetParams(r)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func supplyInfo(r state.Reader) (SupplyInfo, error) {
	total, err := GetSupply(r)
	if err != nil {
		return SupplyInfo{}, err
	}
	pool, err := GetAccount(r, RewardPool)
	if err != nil {
		return SupplyInfo{}, err
	}
	treasury, err := GetAccount(r, Treasury)
	if err != nil {
		return SupplyInfo{}, err
	}
	return SupplyInfo{Total: total, RewardPool: pool.Balance, Treasury: treasury.Balance}, nil
}
