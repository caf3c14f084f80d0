package contracts

import (
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/vm/meter"
)

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want contractsapi.Status
	}{
		{nil, contractsapi.StatusOK},
		{meter.ErrOutOfGas.Wrapf("gas limit 5"), contractsapi.StatusOutOfGas},
		{vm.ErrReverted.Wrapf("no"), contractsapi.StatusReverted},
		{vm.ErrTrap.Wrapf("unreachable"), contractsapi.StatusTrap},
		{vm.ErrExit.Wrapf("code 2"), contractsapi.StatusTrap},
		{meter.ErrStackOverflow.Wrapf("deep"), contractsapi.StatusTrap},
		{vm.ErrHostLimit.Wrapf("input"), contractsapi.StatusVMError},
		{vm.ErrOverdrawn.Wrapf("paying 2 with 1 left"), contractsapi.StatusOverdrawn},
		{vm.ErrCommandOnly.Wrapf("pay"), contractsapi.StatusVMError},
		{errNoCode, contractsapi.StatusNoContract},
		{errNoKey, contractsapi.StatusNoKey},
		{errors.New("anything else"), contractsapi.StatusVMError},
	} {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
