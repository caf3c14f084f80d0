package computeapi

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/codec"
)

// The decoders below read untrusted bytes (transaction bodies, enclaves'
// egress) strictly, canonical CBOR only, and check their form; the
// handlers then check them against params and state. Enclaves use them
// too.

func decode(b []byte, v any, what string) error {
	if err := codec.UnmarshalCanonical(b, v); err != nil {
		return ErrInvalid.Wrapf("%s: %v", what, err)
	}
	return nil
}

func checkIdentity(id []byte) error {
	if len(id) != ed25519.PublicKeySize {
		return ErrInvalid.Wrapf("worker identity key of %d bytes, want %d", len(id), ed25519.PublicKeySize)
	}
	return nil
}

// DecodeStart decodes a MethodStart body.
func DecodeStart(b []byte) (Start, error) {
	var s Start
	if err := decode(b, &s, "start body"); err != nil {
		return s, err
	}
	if s.Stake.IsZero() {
		return s, ErrStakeTooLow.Wrapf("stake is zero")
	}
	return s, checkIdentity(s.Worker)
}

// DecodeStop decodes a MethodStop body.
func DecodeStop(b []byte) (Stop, error) {
	var s Stop
	if err := decode(b, &s, "stop body"); err != nil {
		return s, err
	}
	return s, checkIdentity(s.Worker)
}

// DecodeBenchmark decodes a TopicBenchmark payload: a score in 1..MaxScore.
func DecodeBenchmark(b []byte) (Benchmark, error) {
	var bm Benchmark
	if err := decode(b, &bm, "benchmark"); err != nil {
		return bm, err
	}
	if bm.Score == 0 || bm.Score > MaxScore {
		return bm, ErrInvalid.Wrapf("score %d, want 1..%d", bm.Score, MaxScore)
	}
	return bm, nil
}

// CheckAnswers checks the form of a heartbeat's answers: at most
// MaxAnswers, each naming a session and a positive height, in strictly
// ascending challenge order.
func CheckAnswers(as []Answer) error {
	if len(as) > MaxAnswers {
		return ErrInvalid.Wrapf("%d answers, at most %d", len(as), MaxAnswers)
	}
	for i, a := range as {
		if a.Session == 0 || a.Challenge <= 0 {
			return ErrInvalid.Wrapf("answer %d names session %d, challenge %d", i, a.Session, a.Challenge)
		}
		if i > 0 && a.Challenge <= as[i-1].Challenge {
			return ErrInvalid.Wrapf("answers not in ascending challenge order at %d", i)
		}
	}
	return nil
}

// DecodeSettlement decodes a TopicSettlement payload and checks its form:
// a period from 1, a part within 1..MaxSettlementParts parts, at most
// MaxSettlementWorkers sessions in strictly ascending id order, each
// computing or unresponsive, no reward while unresponsive.
func DecodeSettlement(b []byte) (Settlement, error) {
	var s Settlement
	if err := decode(b, &s, "settlement"); err != nil {
		return s, err
	}
	switch {
	case s.Period == 0:
		return s, ErrInvalid.Wrapf("period 0: periods count from 1")
	case s.Parts == 0 || s.Parts > MaxSettlementParts || s.Part >= s.Parts:
		return s, ErrInvalid.Wrapf("part %d of %d (at most %d parts)", s.Part, s.Parts, MaxSettlementParts)
	case len(s.Workers) > MaxSettlementWorkers:
		return s, ErrInvalid.Wrapf("%d sessions in a part, at most %d", len(s.Workers), MaxSettlementWorkers)
	}
	for i, w := range s.Workers {
		if err := checkWorkerSettlement(w); err != nil {
			return s, ErrInvalid.Wrapf("session %d: %v", i, err)
		}
		if i > 0 && w.Session <= s.Workers[i-1].Session {
			return s, ErrInvalid.Wrapf("sessions not in ascending order at %d", i)
		}
	}
	return s, nil
}

func checkWorkerSettlement(w WorkerSettlement) error {
	switch {
	case w.Session == 0:
		return ErrInvalid.Wrapf("session id 0")
	case !w.State.InSession():
		return ErrInvalid.Wrapf("state %s: want computing or unresponsive", w.State)
	case w.State == StateUnresponsive && !w.Reward.IsZero():
		return ErrInvalid.Wrapf("reward %s while unresponsive", w.Reward)
	}
	return nil
}
