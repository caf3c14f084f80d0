package mq_test

// The mq module's tests through a real application: a relay submits
// enclaves' signed messages in "mq.submit" transactions.

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// deactivateAll is a policy change that deactivates every node: its one
// allowed sim measurement is not apptest.SimMeasurement.
var deactivateAll = registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}}

// withWorker is a chain with a worker registered by op, one block past its
// registration so that a heartbeat can name an older block.
func withWorker(t *testing.T, op apptest.Account) (*apptest.Chain, apptest.TEENode) {
	t.Helper()
	h := apptest.New(t)
	h.Block()
	n := h.Register(op, registryapi.RoleWorker)
	h.Block()
	return h, n
}

// heartbeat is n's message number seq on the heartbeat topic, naming the
// newest block.
func heartbeat(h *apptest.Chain, n apptest.TEENode, seq uint64) mq.SignedEgress {
	return apptest.Egress(n, seq, registryapi.TopicHeartbeat, apptest.Heartbeat(h.Height))
}

func TestEgressHeartbeatAcceptedAndRouted(t *testing.T) {
	h := apptest.New(t)
	h.Block()
	n := h.Register(apptest.Alice, registryapi.RoleWorker)
	relayed := []struct {
		relay apptest.Account
		seq   uint64
	}{{apptest.Alice, 1}, {apptest.Bob, 2}} // whoever relays, the sequence counts
	for _, r := range relayed {
		msg := heartbeat(h, n, r.seq)
		raw := h.Submit(r.relay, msg)
		if res := h.Check(raw); res.Code != 0 {
			t.Fatalf("CheckTx: %s", res.Log)
		}
		paid := h.Account(r.relay.Addr)
		res := h.Block(raw).TxResults[0]
		if res.Code != 0 {
			t.Fatalf("seq %d: %s", r.seq, res.Log)
		}
		if !apptest.HasEvent(res.Events, mq.EventAccepted) || !apptest.HasEvent(res.Events, "node_heartbeat") {
			t.Fatalf("seq %d events: %v", r.seq, res.Events)
		}
		if got := h.Republished(h.Height); len(got) != 1 || !bytes.Equal(codec.MustMarshal(got[0].Egress), codec.MustMarshal(msg)) || got[0].Outcome != mq.OutcomeAccepted {
			t.Fatalf("seq %d republished %+v", r.seq, got)
		}
		if node := h.Node(n); node.LastHeartbeat != h.Height-1 {
			t.Fatalf("seq %d: last heartbeat %d, want %d", r.seq, node.LastHeartbeat, h.Height-1)
		}
		if seq := h.EgressSeq(n); seq != r.seq {
			t.Fatalf("sequence %d, want %d", seq, r.seq)
		}
		if after := h.Account(r.relay.Addr); after.Nonce != paid.Nonce+1 || after.Balance.Cmp(paid.Balance) >= 0 {
			t.Fatalf("relay did not pay: %+v then %+v", paid, after)
		}
	}
	if err := bank.CheckSupply(h.App.Store()); err != nil {
		t.Fatal(err)
	}
}

func TestBadEgressIsRefused(t *testing.T) {
	alice, bob := apptest.Alice, apptest.Bob
	tests := []struct {
		name string
		make func(h *apptest.Chain, n apptest.TEENode) []byte
		want error
	}{
		{"forged signature", func(h *apptest.Chain, n apptest.TEENode) []byte {
			m := heartbeat(h, n, 1)
			m.Signature[0] ^= 1
			return h.Submit(alice, m)
		}, mq.ErrBadSignature},
		{"signed by another key", func(h *apptest.Chain, n apptest.TEENode) []byte {
			m := heartbeat(h, apptest.NewTEENode(t), 1)
			m.Egress.Sender = n.Pub()
			return h.Submit(alice, m)
		}, mq.ErrBadSignature},
		{"signed for another chain", func(h *apptest.Chain, n apptest.TEENode) []byte {
			m := mq.SignEgress("other-chain", n.Identity, mq.Egress{Version: mq.EgressVersion, Sender: n.Pub(), Seq: 1, Topic: registryapi.TopicHeartbeat, Payload: apptest.Heartbeat(h.Height)})
			return h.Submit(alice, m)
		}, mq.ErrBadSignature},
		{"payload changed after signing", func(h *apptest.Chain, n apptest.TEENode) []byte {
			m := heartbeat(h, n, 1)
			m.Egress.Payload = apptest.Heartbeat(1)
			return h.Submit(alice, m)
		}, mq.ErrBadSignature},
		{"malformed body", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Tx(alice, mq.MethodSubmit, "not an egress message")
		}, mq.ErrInvalid},
		{"unknown version", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, mq.SignEgress(apptest.ChainID, n.Identity, mq.Egress{Version: 9, Sender: n.Pub(), Seq: 1, Topic: registryapi.TopicHeartbeat, Payload: apptest.Heartbeat(h.Height)}))
		}, mq.ErrInvalid},
		{"sequence zero", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, heartbeat(h, n, 0))
		}, mq.ErrInvalid},
		{"sequence gap", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, heartbeat(h, n, 2))
		}, mq.ErrSequenceGap},
		{"gap after an accepted one", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.MustSucceed(h.Submit(alice, heartbeat(h, n, 1)))
			return h.Submit(alice, heartbeat(h, n, 3))
		}, mq.ErrSequenceGap},
		{"duplicate relayed by another account", func(h *apptest.Chain, n apptest.TEENode) []byte {
			m := heartbeat(h, n, 1)
			h.MustSucceed(h.Submit(alice, m))
			return h.Submit(bob, m)
		}, mq.ErrDuplicate},
		{"older sequence", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.MustSucceed(h.Submit(alice, heartbeat(h, n, 1)))
			h.MustSucceed(h.Submit(alice, heartbeat(h, n, 2)))
			return h.Submit(alice, heartbeat(h, n, 1))
		}, mq.ErrDuplicate},
		{"duplicate from a node deactivated since", func(h *apptest.Chain, n apptest.TEENode) []byte {
			m := heartbeat(h, n, 1)
			h.MustSucceed(h.Submit(alice, m))
			h.MustSucceed(h.Tx(alice, registryapi.MethodSetPolicy, deactivateAll))
			return h.Submit(bob, m)
		}, mq.ErrDuplicate},
		{"unregistered sender", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, heartbeat(h, apptest.NewTEENode(t), 1))
		}, mq.ErrUnknownSender},
		{"deactivated by a policy change", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.MustSucceed(h.Tx(alice, registryapi.MethodSetPolicy, deactivateAll))
			return h.Submit(alice, heartbeat(h, n, 1))
		}, mq.ErrInactiveSender},
		{"deactivated by expiry", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.Now = h.Now.Add(time.Duration(registryapi.DefaultParams().ReattestSeconds) * time.Second)
			h.Block()
			return h.Submit(alice, heartbeat(h, n, 1))
		}, mq.ErrInactiveSender},
		{"unknown topic", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, apptest.Egress(n, 1, "nobody.owns", apptest.Heartbeat(h.Height)))
		}, mq.ErrUnknownTopic},
		{"republication topic", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, apptest.Egress(n, 1, mq.TopicEgress, apptest.Heartbeat(h.Height)))
		}, mq.ErrUnknownTopic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n := withWorker(t, alice)
			raw := tc.make(h, n)
			seq, before := h.EgressSeq(n), h.Info()
			// Refused by the method: the fee is paid, nothing else changes.
			_, r := h.MustRefuseCharged(raw, tc.want)
			if after := h.Info(); after.LastBlockHeight != before.LastBlockHeight+1 {
				t.Fatal("the block did not commit")
			}
			if got := h.EgressSeq(n); got != seq || len(h.Republished(h.Height)) != 0 {
				t.Fatalf("sequence %d → %d, or something republished", seq, got)
			}
			t.Logf("refused with: %s", r.Log)
		})
	}
}

// TestRejectedPayloadUsesTheSequence: a payload the topic's module refuses
// still uses up its sequence number (so the sender's stream goes on) and is
// republished as refused, but changes nothing in the module and says why in
// an event.
func TestRejectedPayloadUsesTheSequence(t *testing.T) {
	alice := apptest.Alice
	onHeartbeat := func(n apptest.TEENode, seq uint64, payload []byte) mq.SignedEgress {
		return apptest.Egress(n, seq, registryapi.TopicHeartbeat, payload)
	}
	tests := []struct {
		name string
		make func(h *apptest.Chain, n apptest.TEENode) []byte
		want error
	}{
		{"heartbeat from the future", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, onHeartbeat(n, 1, apptest.Heartbeat(h.Height+1)))
		}, registryapi.ErrBadHeartbeat},
		{"heartbeat of height zero", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, onHeartbeat(n, 1, apptest.Heartbeat(0)))
		}, registryapi.ErrBadHeartbeat},
		{"heartbeat payload garbage", func(h *apptest.Chain, n apptest.TEENode) []byte {
			return h.Submit(alice, onHeartbeat(n, 1, []byte{0xff, 0x00}))
		}, registryapi.ErrBadHeartbeat},
		{"heartbeat older than the last", func(h *apptest.Chain, n apptest.TEENode) []byte {
			h.MustSucceed(h.Submit(alice, heartbeat(h, n, 1)))
			return h.Submit(alice, onHeartbeat(n, 2, apptest.Heartbeat(h.Height-2)))
		}, registryapi.ErrStaleHeartbeat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n := withWorker(t, alice)
			raw := tc.make(h, n)
			seq, last := h.EgressSeq(n), h.Node(n).LastHeartbeat
			if r := h.Check(raw); r.Code != 0 {
				t.Fatalf("CheckTx refused: %s", r.Log)
			}
			r := h.Block(raw).TxResults[0]
			if r.Code != 0 || !apptest.HasEvent(r.Events, mq.EventRejected) || apptest.HasEvent(r.Events, mq.EventAccepted) {
				t.Fatalf("FinalizeBlock: code %d %q, events %v", r.Code, r.Log, r.Events)
			}
			if !strings.Contains(fmt.Sprint(r.Events), tc.want.Error()) {
				t.Fatalf("rejection does not say %q: %v", tc.want, r.Events)
			}
			rep := h.Republished(h.Height)
			if got := h.EgressSeq(n); got != seq+1 || len(rep) != 1 || rep[0].Outcome != mq.OutcomeRefused {
				t.Fatalf("sequence %d → %d, republished %+v", seq, got, rep)
			}
			if got := h.Node(n).LastHeartbeat; got != last {
				t.Fatalf("rejected heartbeat moved LastHeartbeat %d → %d", last, got)
			}
		})
	}
}

func TestEgressSequenceQuery(t *testing.T) {
	h := apptest.New(t)
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"unknown sender is at zero", make([]byte, ed25519.PublicKeySize), true},
		{"short key", []byte{1, 2}, false},
		{"no key", nil, false},
	}
	for _, tc := range tests {
		var seq uint64
		err := h.Query(mq.QuerySequence, tc.data, &seq)
		if (err == nil) != tc.ok || (tc.ok && seq != 0) {
			t.Errorf("%s: %v, sequence %d", tc.name, err, seq)
		}
	}
}
