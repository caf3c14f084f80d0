package gov

import (
	"testing"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// TestDecide: quorum over all votes of the eligible, veto over all votes,
// threshold strictly above over yes+no+veto, at the edges.
func TestDecide(t *testing.T) {
	p := govapi.DefaultParams() // quorum 33.4%, threshold 50%, veto 33.4%
	u := token.FromUint64
	for _, tc := range []struct {
		name                   string
		yes, no, abstain, veto uint64
		eligible               uint64
		want                   govapi.Status
	}{
		{"no votes", 0, 0, 0, 0, 1000, govapi.StatusNoQuorum},
		{"nothing eligible", 0, 0, 0, 0, 0, govapi.StatusNoQuorum},
		{"just below quorum", 333, 0, 0, 0, 1000, govapi.StatusNoQuorum},
		{"quorum exactly", 334, 0, 0, 0, 1000, govapi.StatusPassed},
		{"abstain counts for quorum", 1, 0, 333, 0, 1000, govapi.StatusPassed},
		{"all abstain", 0, 0, 1000, 0, 1000, govapi.StatusRejected},
		{"half yes is not more than half", 500, 500, 0, 0, 1000, govapi.StatusRejected},
		{"just above half", 501, 499, 0, 0, 1000, govapi.StatusPassed},
		{"veto exactly at threshold", 666, 0, 0, 334, 1000, govapi.StatusVetoed},
		{"veto just below", 667, 0, 0, 333, 1000, govapi.StatusPassed},
		{"veto counts against yes", 500, 200, 0, 300, 1000, govapi.StatusRejected},
		{"abstain dilutes the veto share", 300, 0, 500, 200, 1000, govapi.StatusPassed},
		{"huge numbers", 1 << 62, 1 << 61, 0, 0, 1 << 63, govapi.StatusPassed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tally := govapi.Tally{Yes: u(tc.yes), No: u(tc.no), Abstain: u(tc.abstain), Veto: u(tc.veto), Eligible: u(tc.eligible)}
			if got := decide(tally, p); got != tc.want {
				t.Fatalf("decide = %s, want %s", got, tc.want)
			}
		})
	}
}

// The three bodies anyone can send decode strictly: never a panic, and
// what decodes is the one canonical encoding of its value.

func FuzzDecodePropose(f *testing.F) {
	f.Add(codec.MustMarshal(govapi.Propose{Title: "t", Actions: []govapi.Action{{Method: "gov.set_params", Body: []byte{0x81}}}, Deposit: token.PHA(1)}))
	f.Add([]byte{0x84, 0x60, 0x60, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, decodePropose) })
}

func FuzzDecodeDeposit(f *testing.F) {
	f.Add(codec.MustMarshal(govapi.Deposit{Proposal: 1, Amount: token.PHA(1)}))
	f.Add([]byte{0x82, 0x18, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, decodeDeposit) })
}

func FuzzDecodeVote(f *testing.F) {
	f.Add(codec.MustMarshal(govapi.Vote{Proposal: 1, Option: govapi.OptionYes}))
	f.Add([]byte{0x82, 0x01, 0x18, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, decodeVote) })
}

func roundTrip[T any](t *testing.T, b []byte, decode func([]byte) (T, error)) {
	v, err := decode(b)
	if err != nil {
		return
	}
	again, err := codec.Marshal(v)
	if err != nil || string(again) != string(b) {
		t.Fatalf("%x decoded to %+v, which encodes as %x (%v)", b, v, again, err)
	}
}
