package poolsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

var key32 = bytes.Repeat([]byte{7}, 32)

func TestDecodeRefusals(t *testing.T) {
	tests := []struct {
		name   string
		decode func([]byte) error
		body   any
		want   error
	}{
		{"commission above 100%", wrap(DecodeCreate), Create{Commission: tokenomics.Million + 1}, ErrCommission},
		{"set commission above 100%", wrap(DecodeSetCommission), SetCommission{Pool: 1, Commission: 2_000_000}, ErrCommission},
		{"set commission of pool 0", wrap(DecodeSetCommission), SetCommission{Commission: 1}, ErrInvalid},
		{"a short worker key", wrap(DecodeWorkerBody), WorkerBody{Pool: 1, Worker: key32[:31]}, ErrInvalid},
		{"a worker of pool 0", wrap(DecodeWorkerBody), WorkerBody{Worker: key32}, ErrInvalid},
		{"capacity of pool 0", wrap(DecodeSetCapacity), SetCapacity{}, ErrInvalid},
		{"delegating nothing", wrap(DecodeDelegate), Delegate{Pool: 1}, ErrInvalid},
		{"undelegating no shares", wrap(DecodeUndelegate), Undelegate{Pool: 1}, ErrInvalid},
		{"withdrawing from pool 0", wrap(DecodeWithdraw), Withdraw{}, ErrInvalid},
		{"position in pool 0", wrap(DecodePositionQuery), PositionQuery{}, ErrInvalid},
		{"pool id 0", wrap(DecodeID), ID(0), ErrInvalid},
		{"three fields for create", wrap(DecodeCreate), []any{1, []byte{1}, 3}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode(codec.MustMarshal(tc.body)); !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}
	ok := []struct {
		decode func([]byte) error
		body   any
	}{
		{wrap(DecodeCreate), Create{Commission: tokenomics.Million, Capacity: token.PHA(5)}},
		{wrap(DecodeWorkerBody), WorkerBody{Pool: 1, Worker: key32}},
		{wrap(DecodeDelegate), Delegate{Pool: 3, Amount: token.PHA(1)}},
		{wrap(DecodeUndelegate), Undelegate{Pool: 3, Shares: token.FromUint64(1)}},
		{wrap(DecodeWithdraw), Withdraw{Pool: 3}},
	}
	for _, tc := range ok {
		if err := tc.decode(codec.MustMarshal(tc.body)); err != nil {
			t.Errorf("%T: %v", tc.body, err)
		}
	}
}

func wrap[T any](f func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error { _, err := f(b); return err }
}

// The stored records round-trip through CBOR and print their big numbers
// as decimals in JSON.
func TestRecordsRoundTrip(t *testing.T) {
	acc, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	p := Pool{ID: 7, Owner: address.Module("x"), Commission: 125_000, Shares: token.PHA(3), RewardPerShare: NewScaled(acc)}
	var back Pool
	if err := codec.UnmarshalCanonical(codec.MustMarshal(p), &back); err != nil {
		t.Fatal(err)
	}
	if back.RewardPerShare.Int().Cmp(acc) != 0 || back.ID != 7 || back.Shares != p.Shares || !back.Carry.IsZero() {
		t.Fatalf("round trip %+v", back)
	}
	js, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"reward_per_share":"123456789012345678901234567890"`)) || !bytes.Contains(js, []byte(`"commission":125000`)) {
		t.Fatalf("JSON %s", js)
	}
	// A scaled number with a leading zero byte is a second encoding.
	bad := codec.MustMarshal(Delegation{Paid: Scaled{b: []byte{0, 1}}})
	if err := codec.Unmarshal(bad, &Delegation{}); err == nil {
		t.Fatal("a leading zero byte was accepted")
	}
}

func TestStateKeys(t *testing.T) {
	a := address.Module("d")
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"params", ParamsKey.Key(), []byte{0x07, 0x01}},
		{"pool", PoolKeyOf(258), []byte{0x07, 0x03, 0, 0, 0, 0, 0, 0, 1, 2}},
		{"delegation", DelegationKeyOf(1, a), append([]byte{0x07, 0x04, 0, 0, 0, 0, 0, 0, 0, 1}, a[:]...)},
		{"queue", QueueKeyOf(1, 2), []byte{0x07, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"worker", WorkerKeyOf([]byte{9}), []byte{0x07, 0x07, 9}},
	}
	for _, tc := range tests {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s key %x, want %x", tc.name, tc.got, tc.want)
		}
	}
	if id, err := IDFromBytes(IDBytes(258)); err != nil || id != 258 {
		t.Fatalf("IDFromBytes: %d %v", id, err)
	}
}

func fuzzDecoder[T any](f *testing.F, decode func([]byte) (T, error), seeds ...any) {
	for _, s := range seeds {
		f.Add(codec.MustMarshal(s))
	}
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			return
		}
		if again := codec.MustMarshal(v); !bytes.Equal(again, b) && len(b) != 0 {
			t.Fatalf("accepted a non-canonical encoding %x (canonical %x)", b, again)
		}
	})
}

func FuzzDecodeCreate(f *testing.F) {
	fuzzDecoder(f, DecodeCreate, Create{Commission: 1, Capacity: token.PHA(1)})
}

func FuzzDecodeWorkerBody(f *testing.F) {
	fuzzDecoder(f, DecodeWorkerBody, WorkerBody{Pool: 1, Worker: key32})
}

func FuzzDecodeSetCommission(f *testing.F) {
	fuzzDecoder(f, DecodeSetCommission, SetCommission{Pool: 1, Commission: 5})
}

func FuzzDecodeSetCapacity(f *testing.F) {
	fuzzDecoder(f, DecodeSetCapacity, SetCapacity{Pool: 1, Capacity: token.PHA(9)})
}

func FuzzDecodeDelegate(f *testing.F) {
	fuzzDecoder(f, DecodeDelegate, Delegate{Pool: 1, Amount: token.PHA(1)})
}

func FuzzDecodeUndelegate(f *testing.F) {
	fuzzDecoder(f, DecodeUndelegate, Undelegate{Pool: 1, Shares: token.PHA(1)})
}

func FuzzDecodeWithdraw(f *testing.F) { fuzzDecoder(f, DecodeWithdraw, Withdraw{Pool: 1}) }

func FuzzDecodeID(f *testing.F) { fuzzDecoder(f, DecodeID, ID(1)) }

// FuzzDecodeListQuery: no data is the first page (not an encoding).
func FuzzDecodeListQuery(f *testing.F) {
	fuzzDecoder(f, DecodeListQuery, ListQuery{After: 1, Limit: 2})
}

func FuzzDecodePositionQuery(f *testing.F) {
	fuzzDecoder(f, DecodePositionQuery, PositionQuery{Pool: 1})
}

// FuzzDecodeRecords: stored records decode strictly too (state is ours,
// but a snapshot from a peer is not).
func FuzzDecodeRecords(f *testing.F) {
	f.Add(codec.MustMarshal(Pool{ID: 1, RewardPerShare: NewScaled(big.NewInt(5))}))
	f.Add(codec.MustMarshal(Delegation{Pending: NewScaled(big.NewInt(1 << 40))}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Pool
		if codec.UnmarshalCanonical(b, &p) == nil && !bytes.Equal(codec.MustMarshal(p), b) {
			t.Fatalf("pool: a second encoding %x", b)
		}
		var d Delegation
		if codec.UnmarshalCanonical(b, &d) == nil && !bytes.Equal(codec.MustMarshal(d), b) {
			t.Fatalf("delegation: a second encoding %x", b)
		}
	})
}

// TestScaledCBOR: the hand-written head is the library's encoding of the
// same bytes, short and long; other forms are refused.
func TestScaledCBOR(t *testing.T) {
	for _, bits := range []uint{0, 1, 8, 100, 184, 200, 511} {
		n := new(big.Int).Lsh(big.NewInt(1), bits)
		if bits == 0 {
			n.SetInt64(0)
		}
		s := NewScaled(n)
		got, err := s.MarshalCBOR()
		want, _ := cbor.Marshal(n.Bytes())
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("2^%d: %x, the library writes %x (%v)", bits, got, want, err)
		}
		var back Scaled
		if err := back.UnmarshalCBOR(got); err != nil || back.Int().Cmp(n) != 0 {
			t.Fatalf("2^%d back: %v %s", bits, err, back)
		}
	}
	for _, bad := range [][]byte{{0x41, 0x00}, {0x58, 0x01, 0x05}, {0x59, 0x00, 0x01, 0x05}, {0x01}, {0x42, 0x01}, append([]byte{0x58, 65}, make([]byte, 65)...)} {
		var s Scaled
		if err := s.UnmarshalCBOR(bad); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}
