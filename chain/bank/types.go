package bank

import (
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// Account is the stored state of one address.
type Account struct {
	_       struct{} `cbor:",toarray"`
	Balance token.Amount
	Nonce   uint64 // the nonce its next transaction must carry
}

// Params are the fee and account rules, set at genesis.
type Params struct {
	_          struct{}     `cbor:",toarray"`
	BaseFee    token.Amount `json:"base_fee"`    // paid by every transaction
	ByteFee    token.Amount `json:"byte_fee"`    // paid per byte of transaction
	MinBalance token.Amount `json:"min_balance"` // below this an account cannot be created
}

// Transfer is the body of "bank.transfer".
type Transfer struct {
	_      struct{} `cbor:",toarray"`
	To     address.Address
	Amount token.Amount
}

// AccountInfo answers the account query.
type AccountInfo struct {
	_       struct{}        `cbor:",toarray"`
	Address address.Address `json:"address"`
	Balance token.Amount    `json:"balance"`
	Nonce   uint64          `json:"nonce"`
	Exists  bool            `json:"exists"`
}

// SupplyInfo answers the supply query.
type SupplyInfo struct {
	_          struct{}     `cbor:",toarray"`
	Total      token.Amount `json:"total"`
	RewardPool token.Amount `json:"reward_pool"`
	Treasury   token.Amount `json:"treasury"`
}

// Method and query names.
const (
	MethodTransfer = "bank.transfer"
	QueryAccount   = "bank/account"
	QuerySupply    = "bank/supply"
	QueryParams    = "bank/params"
)
