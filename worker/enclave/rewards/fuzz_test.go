package rewards_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	et "github.com/phala-go/phala/worker/enclave/enclavetest"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
	"github.com/phala-go/phala/worker/enclave/rewards"
)

// FuzzFold folds arbitrary payloads on the module's topics into a worker's
// and a gatekeeper's module, in blocks far apart: a malformed payload is skipped,
// nothing panics, the work per block stays bounded, and the state still
// encodes and restores.
func FuzzFold(f *testing.F) {
	k := et.NewKeys(f, 21)
	s := computeapi.Session{ID: 1, Worker: k.Pub(), State: computeapi.StateComputing, Score: 2000, Confidence: 5, StartedAt: start.UnixNano(), StartHeight: 1}
	f.Add(uint8(0), codec.MustMarshal(computeapi.SessionEvent{Kind: computeapi.KindStarted, Session: s}), int64(1))
	f.Add(uint8(1), codec.MustMarshal(computeapi.Challenge{Height: 2, Time: start.UnixNano(), Target: everyone}), int64(20))
	f.Add(uint8(2), codec.MustMarshal(computeapi.DevnetParams()), int64(3))
	f.Add(uint8(3), et.EgressMsg(mq.SignedEgress{Egress: mq.Egress{Version: mq.EgressVersion, Sender: k.Pub(), Seq: 1, Topic: registryapi.TopicHeartbeat,
		Payload: codec.MustMarshal(registryapi.Heartbeat{Height: 1, Answers: []computeapi.Answer{{Session: 1, Challenge: 2}}})}}).Payload, int64(5))
	f.Add(uint8(4), k.Event("registered", registryapi.RoleWorker, true, nil).Payload, int64(1))
	topics := []string{computeapi.TopicSession, computeapi.TopicChallenge, computeapi.TopicParams, mq.TopicEgress, registryapi.TopicNode}
	f.Fuzz(func(t *testing.T, topic uint8, payload []byte, gap int64) {
		msg := mq.Message{Topic: topics[int(topic)%len(topics)], Payload: payload}
		for _, role := range []registryapi.Role{registryapi.RoleWorker, registryapi.RoleGatekeeper} {
			// The two modules driven as the machine drives them (the
			// machine's own cost, signing egress, is not what is fuzzed).
			reg := registryview.New(registryapi.Genesis{})
			m, err := rewards.New(reg, rewards.Config{Params: computeapi.DevnetParams(), Score: 100})
			if err != nil {
				t.Fatal(err)
			}
			reg.AnswerFrom(m)
			ctx := &module.Context{ChainID: et.ChainID, Identity: k.Pub(), Role: role, Time: start, Outbox: noOutbox{}, Log: slog.New(slog.DiscardHandler)}
			for h := int64(1); h <= 3; h++ {
				ctx.Height, ctx.Hash = h, et.BlockHash(h)
				ctx.Time = ctx.Time.Add(time.Duration(gap%1_000_000) * time.Second)
				reg.BeginBlock(ctx)
				m.BeginBlock(ctx)
				_, _ = reg.Fold(ctx, k.Event("registered", role, true, nil))
				_, _ = m.Fold(ctx, k.Event("registered", role, true, nil))
				if msg.Topic != mq.TopicEgress {
					_, _ = m.Fold(ctx, msg)
				} else if r, err := mq.DecodeRepublished(msg.Payload); err == nil && r.Outcome == mq.OutcomeAccepted && r.Egress.Egress.Topic == registryapi.TopicHeartbeat {
					_, _ = m.FoldEgress(ctx, r.Egress)
				}
				reg.EndBlock(ctx)
				m.EndBlock(ctx)
			}
			raw := m.MarshalState()
			again, err := rewards.New(reg, rewards.Config{Params: computeapi.DevnetParams()})
			if err != nil {
				t.Fatal(err)
			}
			if err := again.UnmarshalState(raw); err != nil {
				t.Fatalf("state does not restore: %v", err)
			}
			if !bytes.Equal(again.MarshalState(), raw) {
				t.Fatal("state does not round-trip")
			}
		}
	})
}

// noOutbox is an outbox with nothing waiting.
type noOutbox struct{}

func (noOutbox) Waiting(string) bool { return false }
