package computeapi

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

func sha(seed [32]byte, id []byte) []byte {
	h := sha256.Sum256(append(seed[:], id...))
	return h[:]
}

var key = bytes.Repeat([]byte{7}, 32)

func TestDecoders(t *testing.T) {
	ws := func(s uint64, st State, r uint64) WorkerSettlement {
		return WorkerSettlement{Session: s, State: st, V: fixed.Int(100), Reward: token.FromUint64(r)}
	}
	cases := []struct {
		name   string
		decode func([]byte) error
		v      any
		want   error // nil: accepted
	}{
		{"start", func(b []byte) error { _, err := DecodeStart(b); return err }, Start{Worker: key, Stake: token.PHA(1)}, nil},
		{"start without stake", func(b []byte) error { _, err := DecodeStart(b); return err }, Start{Worker: key}, ErrStakeTooLow},
		{"start with a short key", func(b []byte) error { _, err := DecodeStart(b); return err }, Start{Worker: key[:31], Stake: token.PHA(1)}, ErrInvalid},
		{"stop", func(b []byte) error { _, err := DecodeStop(b); return err }, Stop{Worker: key}, nil},
		{"stop with a long key", func(b []byte) error { _, err := DecodeStop(b); return err }, Stop{Worker: append(key, 1)}, ErrInvalid},
		{"benchmark", func(b []byte) error { _, err := DecodeBenchmark(b); return err }, Benchmark{Score: 2500}, nil},
		{"benchmark of zero", func(b []byte) error { _, err := DecodeBenchmark(b); return err }, Benchmark{}, ErrInvalid},
		{"benchmark too high", func(b []byte) error { _, err := DecodeBenchmark(b); return err }, Benchmark{Score: MaxScore + 1}, ErrInvalid},
		{"settlement", decodeSettlement, Settlement{Period: 1, Parts: 1, Workers: []WorkerSettlement{ws(1, StateComputing, 5), ws(2, StateUnresponsive, 0)}}, nil},
		{"empty settlement", decodeSettlement, Settlement{Period: 3, Parts: 1}, nil},
		{"period zero", decodeSettlement, Settlement{Parts: 1}, ErrInvalid},
		{"no parts", decodeSettlement, Settlement{Period: 1}, ErrInvalid},
		{"part beyond", decodeSettlement, Settlement{Period: 1, Part: 1, Parts: 1}, ErrInvalid},
		{"too many parts", decodeSettlement, Settlement{Period: 1, Parts: MaxSettlementParts + 1}, ErrInvalid},
		{"session zero", decodeSettlement, Settlement{Period: 1, Parts: 1, Workers: []WorkerSettlement{ws(0, StateComputing, 0)}}, ErrInvalid},
		{"sessions repeated", decodeSettlement, Settlement{Period: 1, Parts: 1, Workers: []WorkerSettlement{ws(2, StateComputing, 0), ws(2, StateComputing, 0)}}, ErrInvalid},
		{"ready in a settlement", decodeSettlement, Settlement{Period: 1, Parts: 1, Workers: []WorkerSettlement{ws(2, StateReady, 0)}}, ErrInvalid},
		{"cooling down in a settlement", decodeSettlement, Settlement{Period: 1, Parts: 1, Workers: []WorkerSettlement{ws(2, StateCoolingDown, 0)}}, ErrInvalid},
		{"rewarded while unresponsive", decodeSettlement, Settlement{Period: 1, Parts: 1, Workers: []WorkerSettlement{ws(2, StateUnresponsive, 1)}}, ErrInvalid},
	}
	for _, c := range cases {
		err := c.decode(codec.MustMarshal(c.v))
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	big := Settlement{Period: 1, Parts: 1}
	for i := range MaxSettlementWorkers + 1 {
		big.Workers = append(big.Workers, ws(uint64(i+1), StateComputing, 0))
	}
	if err := decodeSettlement(codec.MustMarshal(big)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a part of %d sessions: %v", len(big.Workers), err)
	}
	// Not canonical: a Benchmark whose score is written in 2 bytes.
	if _, err := DecodeBenchmark([]byte{0x81, 0x19, 0x00, 0x05}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a non-canonical benchmark: %v", err)
	}
}

func decodeSettlement(b []byte) error { _, err := DecodeSettlement(b); return err }

func TestCheckAnswers(t *testing.T) {
	many := make([]Answer, MaxAnswers+1)
	for i := range many {
		many[i] = Answer{Session: 1, Challenge: int64(i + 1)}
	}
	for _, c := range []struct {
		name string
		as   []Answer
		ok   bool
	}{
		{"none", nil, true},
		{"ascending", []Answer{{Session: 1, Challenge: 5}, {Session: 1, Challenge: 9}}, true},
		{"descending", []Answer{{Session: 1, Challenge: 9}, {Session: 1, Challenge: 5}}, false},
		{"repeated", []Answer{{Session: 1, Challenge: 5}, {Session: 1, Challenge: 5}}, false},
		{"no session", []Answer{{Challenge: 5}}, false},
		{"no height", []Answer{{Session: 1}}, false},
		{"too many", many, false},
	} {
		if err := CheckAnswers(c.as); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	pool := token.PHA(700_000_000)
	if err := DefaultParams().Validate(pool); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := DevnetParams().Validate(pool); err != nil {
		t.Fatalf("devnet: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Params)
	}{
		{"settle_every zero", func(p *Params) { p.SettleEvery = 0 }},
		{"settle_every above a day", func(p *Params) { p.SettleEvery = 25 * time.Hour; p.Economy.CoolDown = 30 * time.Hour }},
		{"challenge_every zero", func(p *Params) { p.ChallengeEvery = 0 }},
		{"no challenges a block", func(p *Params) { p.MaxChallengesPerBlock = 0 }},
		{"answer_window zero", func(p *Params) { p.AnswerWindow = 0 }},
		{"slash more than the stake", func(p *Params) { p.SlashShare = fixed.MustRatio(3, 2) }},
		{"cool-down shorter than a period", func(p *Params) { p.Economy.CoolDown = time.Minute; p.SettleEvery = time.Hour }},
		{"k zero", func(p *Params) { p.Economy.K = fixed.Zero }},
		{"schedule beyond the pool", func(p *Params) { p.Economy.BudgetPerDay = token.PHA(10_000_000) }},
	} {
		p := DefaultParams()
		c.edit(&p)
		if err := p.Validate(pool); !errors.Is(err, ErrParams) {
			t.Errorf("%s: %v, want %v", c.name, err, ErrParams)
		}
	}
}

func TestConfidenceOf(t *testing.T) {
	for _, c := range []struct {
		tee    attest.Kind
		status string
		want   tokenomics.Confidence
	}{
		{attest.KindSGX, attest.StatusUpToDate, tokenomics.ConfidenceUpToDate},
		{attest.KindTDX, attest.StatusSWHardeningNeeded, tokenomics.ConfidenceSWHardening},
		{attest.KindSGX, attest.StatusConfigurationAndSWHardeningNeeded, tokenomics.ConfidenceConfiguration},
		{attest.KindSGX, attest.StatusOutOfDate, tokenomics.ConfidenceOutOfDate},
		{attest.KindSGX, "SomethingNew", tokenomics.ConfidenceSimulated},
		{attest.KindSim, attest.StatusUpToDate, tokenomics.ConfidenceSimulated},
	} {
		if got := ConfidenceOf(attest.Verified{TEE: c.tee, TCBStatus: c.status}); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.tee, c.status, got, c.want)
		}
	}
}

// TestStandingRoundTrip: a session written as record and standing reads
// back whole.
func TestStandingRoundTrip(t *testing.T) {
	s := Session{ID: 3, Worker: key, Pool: 2, State: StateUnresponsive, Stake: token.PHA(5), V: fixed.Int(7), Rewards: token.PHA(1), SettledPeriod: 4, StartedAt: 10, StoppedAt: 20}
	st := StandingOf(s)
	rec := s.With(Standing{})
	var back Session
	if err := codec.UnmarshalCanonical(codec.MustMarshal(rec), &back); err != nil {
		t.Fatal(err)
	}
	back = back.With(st)
	if !bytes.Equal(codec.MustMarshal(back), codec.MustMarshal(s)) {
		t.Fatalf("%+v read back as %+v", s, back)
	}
}

// The fuzz targets: every decoder of untrusted bytes refuses without
// panicking, and what it accepts is canonical (encodes back to the input).
func fuzzDecoder[T any](f *testing.F, seeds []T, decode func([]byte) (T, error)) {
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
		if again := codec.MustMarshal(v); !bytes.Equal(again, b) {
			t.Fatalf("accepted %x, which encodes back as %x", b, again)
		}
	})
}

func FuzzDecodeSettlement(f *testing.F) {
	fuzzDecoder(f, []Settlement{{Period: 2, Part: 1, Parts: 3, Workers: []WorkerSettlement{{Session: 4, State: StateComputing, V: fixed.MustRatio(7, 3), Reward: token.PHA(2)}}}}, DecodeSettlement)
}

func FuzzDecodeStart(f *testing.F) {
	fuzzDecoder(f, []Start{{Worker: key, Stake: token.PHA(2500)}}, DecodeStart)
}

func FuzzDecodeStop(f *testing.F) { fuzzDecoder(f, []Stop{{Worker: key}}, DecodeStop) }

func FuzzDecodeBenchmark(f *testing.F) {
	fuzzDecoder(f, []Benchmark{{Score: 2500}}, DecodeBenchmark)
}

// FuzzAnswers: the answers a heartbeat carries, as the compute module
// reads them (the registry's heartbeat decoded strictly, then checked).
func FuzzAnswers(f *testing.F) {
	type heartbeat struct {
		_       struct{} `cbor:",toarray"`
		Height  int64
		Answers []Answer
	}
	f.Add(codec.MustMarshal(heartbeat{Height: 5, Answers: []Answer{{Session: 1, Challenge: 4}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var hb heartbeat
		if codec.UnmarshalCanonical(b, &hb) != nil || CheckAnswers(hb.Answers) != nil {
			return
		}
		for i, a := range hb.Answers {
			if a.Session == 0 || a.Challenge <= 0 || (i > 0 && a.Challenge <= hb.Answers[i-1].Challenge) {
				t.Fatalf("accepted %+v", hb.Answers)
			}
		}
	})
}
