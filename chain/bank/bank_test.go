package bank

import (
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// memReader is an empty committed state.
type memReader struct{}

func (memReader) Get([]byte) ([]byte, error) { return nil, nil }

func TestFee(t *testing.T) {
	p := DefaultParams()
	tests := []struct {
		bytes int
		want  token.Amount
	}{
		{0, p.BaseFee},
		{200, token.FromUint64(1_000_000_000 + 200*1_000_000)},
	}
	for _, tc := range tests {
		got, err := p.Fee(tc.bytes)
		if err != nil || got != tc.want {
			t.Errorf("Fee(%d) = %s, %v; want %s", tc.bytes, got, err, tc.want)
		}
	}
}

func TestMoveRules(t *testing.T) {
	alice, bob, carol := address.Module("t-alice"), address.Module("t-bob"), address.Module("t-carol")
	newStore := func() *state.Overlay {
		s := state.NewOverlay(memReader{})
		s.Set(paramsKey.Key(), codec.MustMarshal(DefaultParams()))
		putAccount(s, alice, bankapi.Account{Balance: token.PHA(10)})
		putAccount(s, bob, bankapi.Account{Balance: token.PHA(1)})
		return s
	}
	tests := []struct {
		name   string
		to     address.Address
		amount token.Amount
		want   error
	}{
		{"to existing", bob, token.FromUint64(1), nil},
		{"creates account", carol, token.PHA(1), nil},
		{"new account below minimum", carol, token.FromUint64(5), bankapi.ErrBelowMinBalance},
		{"more than balance", bob, token.PHA(11), bankapi.ErrInsufficientFunds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore()
			err := Move(s, alice, tc.to, tc.amount)
			if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
				t.Fatalf("Move: %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzTransferBody feeds arbitrary bodies to the transfer handler: it must
// never panic, and a transfer it accepts must conserve the sender's funds.
func FuzzTransferBody(f *testing.F) {
	f.Add(codec.MustMarshal(bankapi.Transfer{To: address.Module("x"), Amount: token.PHA(1)}))
	f.Add([]byte{0x82, 0x40, 0x40})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		s := state.NewOverlay(memReader{})
		s.Set(paramsKey.Key(), codec.MustMarshal(DefaultParams()))
		sender := address.Module("fuzz-sender")
		putAccount(s, sender, bankapi.Account{Balance: token.PHA(5)})
		branch := s.Branch()
		if err := handleTransfer(&module.Context{Store: branch, Sender: sender}, body); err != nil {
			return // the application discards the branch of a failed transaction
		}
		sum := token.Amount{}
		for _, c := range branch.Changes() {
			var acc bankapi.Account
			if err := codec.Unmarshal(c.Value, &acc); err != nil {
				t.Fatalf("handler wrote an undecodable account: %v", err)
			}
			sum, _ = sum.Add(acc.Balance)
		}
		if sum != token.PHA(5) {
			t.Fatalf("accepted transfer changed total funds to %s", sum)
		}
	})
}

// GetParams caches the decoding, never the value: a store holding other
// params bytes reads those.
func TestGetParamsFollowsWrites(t *testing.T) {
	s := state.NewOverlay(memReader{})
	if _, err := GetParams(s); !errors.Is(err, bankapi.ErrCorruptState) {
		t.Fatalf("no params: got %v", err)
	}
	tests := []struct {
		name string
		fee  uint64
	}{
		{"first", 5},
		{"same again", 5},
		{"rewritten", 7},
		{"back", 5},
	}
	for _, tc := range tests {
		p := DefaultParams()
		p.BaseFee = token.FromUint64(tc.fee)
		s.Set(paramsKey.Key(), codec.MustMarshal(p))
		got, err := GetParams(s)
		if err != nil || got != p {
			t.Fatalf("%s: got %+v, %v; want %+v", tc.name, got, err, p)
		}
	}
	s.Set(paramsKey.Key(), []byte{0xff})
	if _, err := GetParams(s); !errors.Is(err, bankapi.ErrCorruptState) {
		t.Fatalf("corrupt params: got %v", err)
	}
}

// TestBurnedIsUnspendable: what reaches the burned account never leaves.
func TestBurnedIsUnspendable(t *testing.T) {
	s := state.NewOverlay(memReader{})
	s.Set(paramsKey.Key(), codec.MustMarshal(DefaultParams()))
	putAccount(s, bankapi.Burned, bankapi.Account{Balance: token.PHA(10)})
	if err := Move(s, bankapi.Burned, address.Module("t-thief"), token.PHA(1)); !errors.Is(err, bankapi.ErrInsufficientFunds) {
		t.Fatalf("Move from burned: %v", err)
	}
}
