package contractsapi

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

func goodResults() Results {
	return Results{Height: 7, Cluster: "default",
		Commands: []CommandResult{{Seq: 3, Status: StatusOK, GasUsed: 10, Payouts: []Payout{{Contract: Hash{1}, To: address.Module("x"), Amount: token.FromUint64(5)}}},
			{Seq: 4, Status: StatusOutOfGas, GasUsed: 5}},
		Roots: []ContractRoot{{Contract: Hash{1}, Root: Hash{9}}, {Contract: Hash{2}, Root: Hash{8}}}}
}

func TestDecodeResults(t *testing.T) {
	good := goodResults()
	if r, err := DecodeResults(codec.MustMarshal(good)); err != nil || r.Height != 7 || len(r.Commands) != 2 || len(r.Roots) != 2 {
		t.Fatalf("good results: %+v (%v)", r, err)
	}
	for _, tc := range []struct {
		name string
		edit func(r *Results)
	}{
		{"height 0", func(r *Results) { r.Height = 0 }},
		{"no cluster", func(r *Results) { r.Cluster = "" }},
		{"no commands", func(r *Results) { r.Commands = nil }},
		{"seq repeated", func(r *Results) { r.Commands[1].Seq = 3 }},
		{"seq descending", func(r *Results) { r.Commands[0].Seq = 9 }},
		{"unknown status", func(r *Results) { r.Commands[0].Status = 99 }},
		{"roots unsorted", func(r *Results) { r.Roots[0].Contract, r.Roots[1].Contract = r.Roots[1].Contract, r.Roots[0].Contract }},
		{"more roots than commands can touch", func(r *Results) {
			r.Roots = nil
			for i := range 2*(1+MaxCommandMessages) + 1 {
				r.Roots = append(r.Roots, ContractRoot{Contract: Hash{byte(i >> 8), byte(i)}})
			}
		}},
		{"payout of a failed command", func(r *Results) { r.Commands[1].Payouts = r.Commands[0].Payouts }},
		{"payout of nothing", func(r *Results) { r.Commands[0].Payouts[0].Amount = token.Amount{} }},
		{"too many payouts", func(r *Results) {
			r.Commands[0].Payouts = slices.Repeat(r.Commands[0].Payouts, MaxCommandPayouts+1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := goodResults()
			tc.edit(&r)
			if _, err := DecodeResults(codec.MustMarshal(r)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := DecodeResults(append(codec.MustMarshal(good), 0)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func FuzzDecodeResults(f *testing.F) {
	f.Add(codec.MustMarshal(goodResults()))
	f.Add([]byte{0x80})
	failed := goodResults()
	failed.Commands[1].Payouts = failed.Commands[0].Payouts
	f.Add(codec.MustMarshal(failed))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResults(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes (canonical).
		if !bytes.Equal(codec.MustMarshal(r), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
		for _, c := range r.Commands {
			if len(c.Payouts) > 0 && c.Status != StatusOK || len(c.Payouts) > MaxCommandPayouts {
				t.Fatalf("accepted command %d with %d payouts and status %s", c.Seq, len(c.Payouts), c.Status)
			}
			for _, p := range c.Payouts {
				if p.Amount.IsZero() {
					t.Fatalf("accepted a payout of nothing")
				}
			}
		}
	})
}
