package authority

import (
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
)

// Require refuses a sender without the chain's authority, with the
// calling module's own error kind so a script matches the module's code;
// the text says who may act instead.
func Require(r state.Reader, sender address.Address, refused *errs.Error) error {
	ok, err := Allowed(r, sender)
	if err != nil {
		return err
	}
	if !ok {
		return refused.Wrapf("sender %s; only %s may do this", sender, Describe(r))
	}
	return nil
}
