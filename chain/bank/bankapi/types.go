// Package bankapi is the bank module's wire form: its method and query names,
// transaction bodies, answers, error kinds, module accounts and the fee rule.
// Clients and enclaves import it; the handlers live in chain/bank.
package bankapi

import (
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

// Account is the stored state of one address.
type Account struct {
	_       struct{} `cbor:",toarray"`
	Balance token.Amount
	Nonce   uint64 // the nonce its next transaction must carry
}

// Params are the fee and account rules, set at genesis and changed by
// "bank.set_params" (the chain's authority only).
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
	Burned     token.Amount `json:"burned"`
}

// Method and query names.
const (
	MethodTransfer = "bank.transfer"
	QueryAccount   = "bank/account"
	QuerySupply    = "bank/supply"
	QueryParams    = "bank/params"
	// MethodSetParams changes the params (body module.ParamChange; the
	// chain's authority only: chain/authority).
	MethodSetParams = "bank.set_params"
	// EventParams: set_params changed the params (attribute "changed").
	EventParams = "bank_params"
)

// Name is the module's name.
const Name = "bank"

// Stable error kinds.
var (
	ErrInsufficientFunds = errs.Register(Name, 1, "insufficient funds")
	ErrBelowMinBalance   = errs.Register(Name, 2, "amount below the minimum balance of a new account")
	ErrInvalidTransfer   = errs.Register(Name, 3, "invalid transfer")
	ErrCorruptState      = errs.Register(Name, 4, "corrupt bank state")
	ErrParams            = errs.Register(Name, 5, "parameter out of range")
	ErrUnauthorized      = errs.Register(Name, 6, "only the chain's authority may do this")
)

// Gas: the execution cost of each transaction.
const (
	TransferGas  = 1_000
	SetParamsGas = 10_000
)

// Fee bounds. A transaction is at most a few megabytes, so with these
// Fee(n) cannot overflow and, at 1,000 PHA a transaction plus 1 PHA a
// byte at most, no setting can make the chain unusable by a typo of a
// few orders of magnitude without the holders' noticing: the supply is
// 10^9 PHA.
var (
	MaxBaseFee    = token.PHA(1_000)
	MaxByteFee    = token.PHA(1)
	MaxMinBalance = token.PHA(1_000)
)

// Validate checks the params' ranges: fees bounded so that Fee never
// overflows, a positive minimum balance (an empty account must not be
// creatable: it would cost state for nothing).
func (p Params) Validate() error {
	switch {
	case p.BaseFee.Cmp(MaxBaseFee) > 0:
		return ErrParams.Wrapf("base_fee must be at most %s", MaxBaseFee.PHAString())
	case p.ByteFee.Cmp(MaxByteFee) > 0:
		return ErrParams.Wrapf("byte_fee must be at most %s", MaxByteFee.PHAString())
	case p.MinBalance.IsZero() || p.MinBalance.Cmp(MaxMinBalance) > 0:
		return ErrParams.Wrapf("min_balance must be in (0, %s]", MaxMinBalance.PHAString())
	}
	return nil
}

// Fee is what a transaction of n bytes must pay at least.
func (p Params) Fee(n int) (token.Amount, error) {
	perByte, err := p.ByteFee.MulUint64(uint64(n))
	if err != nil {
		return token.Amount{}, err
	}
	return p.BaseFee.Add(perByte)
}

// TotalSupply is fixed: one billion PHA, all minted at genesis.
var TotalSupply = token.PHA(1_000_000_000)

// Allocation purposes of the tokenomics.
const (
	PurposeMiningRewards       = "mining_rewards"
	PurposeCommunity           = "community"
	PurposePrivatePlacement    = "private_placement"
	PurposeDeveloperIncentives = "developer_incentives"
	PurposeTeam                = "team"
)

// Module accounts: addresses no key controls.
var (
	// RewardPool holds the 70% of the supply that only computation rewards
	// may release.
	RewardPool = address.Module("rewards")
	// Community holds the community allocation (governance releases it).
	Community = address.Module("community")
	// Treasury receives every fee.
	Treasury = address.Module("treasury")
	// Burned holds what is destroyed (a vetoed proposal's deposit): it
	// stays in the total supply, so the supply invariant holds, but no
	// key controls it and bank.Move refuses to spend from it.
	Burned = address.Module("burned")
)
