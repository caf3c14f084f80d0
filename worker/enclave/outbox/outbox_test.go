package outbox

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"log/slog"
	"slices"
	"testing"
)

var key = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

// TestConfirm: the chain republishing one of our messages confirms it and
// every earlier one (sequence numbers are exactly-next, so the earlier
// ones were accepted too).
func TestConfirm(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name        string
		confirm     []int // indexes into the three messages sent
		wantPending []uint64
		wantNext    uint64
	}{
		{"the second confirms the first two", []int{1}, []uint64{3}, 4},
		{"then the third empties it", []int{1, 2}, nil, 4},
		{"a repeated confirmation changes nothing", []int{0, 0}, []uint64{2, 3}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := New()
			for i := range 3 {
				o.Send("outbox-test", key, "test/topic", []byte{byte(i)})
			}
			sent := o.Copy()
			for _, i := range tc.confirm {
				o.Confirm(sent[i], log)
			}
			var got []uint64
			for _, se := range o.Pending {
				got = append(got, se.Egress.Seq)
			}
			if !slices.Equal(got, tc.wantPending) || o.NextSeq != tc.wantNext {
				t.Fatalf("pending %v next %d, want %v next %d", got, o.NextSeq, tc.wantPending, tc.wantNext)
			}
		})
	}
}

func TestConfirmOfAnotherEnclavesMessageMovesTheSequence(t *testing.T) {
	o := New()
	other := New()
	other.NextSeq = 7
	other.Send("outbox-test", key, "t", []byte{1})
	o.Confirm(other.Pending[0], slog.New(slog.NewTextHandler(io.Discard, nil)))
	if o.NextSeq != 8 || o.Waiting("t") {
		t.Fatalf("next %d", o.NextSeq)
	}
}

func TestSendSigns(t *testing.T) {
	o := Outbox{}
	o.Send("outbox-test", key, "t", []byte{1})
	se := o.Pending[0]
	if se.Egress.Seq != 1 || se.Verify("outbox-test") != nil || !o.Waiting("t") || o.Waiting("u") {
		t.Fatalf("seq %d verify %v", se.Egress.Seq, se.Verify("outbox-test"))
	}
}
