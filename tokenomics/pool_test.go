package tokenomics

import (
	"errors"
	"math/big"
	"testing"

	"github.com/phala-go/phala/token"
)

func TestPermill(t *testing.T) {
	good := []struct {
		in   string
		want Permill
		out  string
	}{
		{"10%", 100_000, "10%"},
		{"12.5%", 125_000, "12.5%"},
		{"0.0001%", 1, "0.0001%"},
		{"100%", Million, "100%"},
		{"0%", 0, "0%"},
		{"0.125", 125_000, "12.5%"},
		{"1", Million, "100%"},
		{"0.000001", 1, "0.0001%"},
	}
	for _, g := range good {
		got, err := ParsePermill(g.in)
		if err != nil || got != g.want {
			t.Errorf("ParsePermill(%q) = %d, %v; want %d", g.in, got, err, g.want)
		}
		if s := got.String(); s != g.out {
			t.Errorf("%d prints %q, want %q", got, s, g.out)
		}
	}
	for _, bad := range []string{"", "%", "100.0001%", "1.000001", "-1%", "1e3", "0.00001%", "0.0000001", "12.%", ".5", "99999999%"} {
		if _, err := ParsePermill(bad); !errors.Is(err, ErrPermill) {
			t.Errorf("ParsePermill(%q) = %v, want ErrPermill", bad, err)
		}
	}
	if got := Permill(333_333).Of(token.FromUint64(10)); got != token.FromUint64(3) {
		t.Errorf("33.3333%% of 10 = %s", got)
	}
	if got := Million.Of(token.PHA(7)); got != token.PHA(7) {
		t.Errorf("100%% of 7 PHA = %s", got)
	}
}

func TestShareArithmetic(t *testing.T) {
	u := token.FromUint64
	if got, err := SharesFor(u(5), token.Amount{}, token.Amount{}); err != nil || got != u(5) {
		t.Fatalf("empty pool: %s %v", got, err)
	}
	if _, err := SharesFor(u(5), u(10), token.Amount{}); !errors.Is(err, ErrWorthless) {
		t.Fatalf("worthless: %v", err)
	}
	// 10 shares backed by 15: a share costs 1.5, so 7 buys 4 (rounded
	// down), 4 are worth 6, and 6 of value is 4 shares.
	if got, _ := SharesFor(u(7), u(10), u(15)); got != u(4) {
		t.Fatalf("SharesFor = %s", got)
	}
	if got := ShareValue(u(4), u(10), u(15)); got != u(6) {
		t.Fatalf("ShareValue = %s", got)
	}
	if got := SharesWorth(u(7), u(10), u(15)); got != u(4) {
		t.Fatalf("SharesWorth = %s", got)
	}
	// The whole supply in shares and stake does not overflow.
	all := token.PHA(1_000_000_000)
	if got := ShareValue(all, all, all); got != all {
		t.Fatalf("ShareValue of everything = %s", got)
	}
}

// TestAccrueIsExact: however rewards and shares fall, the accumulator's
// growth times the shares plus the carry is every reward, scaled.
func TestAccrueIsExact(t *testing.T) {
	acc, carry := new(big.Int), new(big.Int)
	shares := token.FromUint64(7)
	total := new(big.Int)
	for _, r := range []uint64{1, 2, 3, 1_000_000_007, 5} {
		acc, carry = Accrue(acc, carry, token.FromUint64(r), shares)
		total.Add(total, new(big.Int).Mul(big.NewInt(int64(r)), RewardScale))
		got := new(big.Int).Mul(acc, shares.Big())
		if got.Add(got, carry).Cmp(total) != 0 {
			t.Fatalf("after %d: acc·shares + carry = %s, rewards %s", r, got, total)
		}
		if carry.Cmp(shares.Big()) >= 0 {
			t.Fatalf("carry %s not below the shares", carry)
		}
	}
	earned := Earned(token.FromUint64(3), acc, new(big.Int))
	whole, rest := Claimable(earned)
	// 3/7 of 1,000,000,018 units is 428,571,436.28...
	if whole != token.FromUint64(428_571_436) || rest.Sign() <= 0 {
		t.Fatalf("claimable %s, rest %s", whole, rest)
	}
}
