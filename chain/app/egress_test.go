package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// egressTx signs a transaction of from at its committed nonce: each test
// step runs in a block of its own.
func (h *harness) egressTx(from account, method string, body any) []byte {
	h.t.Helper()
	return signed(h.t, from, h.account(from.addr).Nonce, method, body)
}

// egressRegister admits a sim node operated by op.
func (h *harness) egressRegister(op account, role registryapi.Role) teeNode {
	h.t.Helper()
	n := newTEENode(h.t)
	h.mustSucceed(h.egressTx(op, registryapi.MethodRegister, h.simRegistration(n, op, role)))
	return n
}

// egressSubmit is a relay's "mq.submit" of msg, paid by relay.
func (h *harness) egressSubmit(relay account, msg mq.SignedEgress) []byte {
	h.t.Helper()
	return h.egressTx(relay, mq.MethodSubmit, msg)
}

func egressMsg(n teeNode, seq uint64, topic string, payload []byte) mq.SignedEgress {
	return mq.SignEgress(testChain, n.identity, mq.Egress{Version: mq.EgressVersion, Sender: n.pub(), Seq: seq, Topic: topic, Payload: payload})
}

func heartbeatAt(height int64) []byte {
	return codec.MustMarshal(registryapi.Heartbeat{Height: height})
}

func (h *harness) egressSeq(n teeNode) uint64 {
	h.t.Helper()
	resp, _ := h.app.Query(context.Background(), &abci.QueryRequest{Path: mq.QuerySequence, Data: n.pub()})
	if resp.Code != 0 {
		h.t.Fatalf("sequence query: %s", resp.Log)
	}
	var seq uint64
	if err := codec.Unmarshal(resp.Value, &seq); err != nil {
		h.t.Fatal(err)
	}
	return seq
}

// republished returns the accepted egress messages on a block's list.
func (h *harness) republished(height int64) []mq.SignedEgress {
	h.t.Helper()
	msgs, err := h.app.Messages(height)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []mq.SignedEgress
	for _, m := range msgs {
		if m.Topic != mq.TopicEgress {
			continue
		}
		var s mq.SignedEgress
		if err := codec.Unmarshal(m.Payload, &s); err != nil {
			h.t.Fatalf("republished egress does not decode: %v", err)
		}
		out = append(out, s)
	}
	return out
}

func hasEvent(events []abci.Event, kind string) bool {
	for _, e := range events {
		if e.Type == kind {
			return true
		}
	}
	return false
}

func TestEgressHeartbeatAcceptedAndRouted(t *testing.T) {
	h := newHarness(t)
	h.block()
	alice, bob := devAccount("alice"), devAccount("bob")
	n := h.egressRegister(alice, registryapi.RoleWorker)
	relayed := []struct {
		relay account
		seq   uint64
	}{{alice, 1}, {bob, 2}} // whoever relays, the sequence counts
	for _, r := range relayed {
		msg := egressMsg(n, r.seq, registryapi.TopicHeartbeat, heartbeatAt(h.height))
		raw := h.egressSubmit(r.relay, msg)
		if res := h.check(raw); res.Code != 0 {
			t.Fatalf("CheckTx: %s", res.Log)
		}
		paid := h.account(r.relay.addr)
		res := h.block(raw).TxResults[0]
		if res.Code != 0 {
			t.Fatalf("seq %d: %s", r.seq, res.Log)
		}
		if !hasEvent(res.Events, mq.EventAccepted) || !hasEvent(res.Events, "node_heartbeat") {
			t.Fatalf("seq %d events: %v", r.seq, res.Events)
		}
		got := h.republished(h.height)
		if len(got) != 1 || !bytes.Equal(codec.MustMarshal(got[0]), codec.MustMarshal(msg)) {
			t.Fatalf("seq %d republished %d messages", r.seq, len(got))
		}
		if node := h.node(n); node.LastHeartbeat != h.height-1 {
			t.Fatalf("seq %d: last heartbeat %d, want %d", r.seq, node.LastHeartbeat, h.height-1)
		}
		if seq := h.egressSeq(n); seq != r.seq {
			t.Fatalf("sequence %d, want %d", seq, r.seq)
		}
		if after := h.account(r.relay.addr); after.Nonce != paid.Nonce+1 || after.Balance.Cmp(paid.Balance) >= 0 {
			t.Fatalf("relay did not pay: %+v then %+v", paid, after)
		}
	}
	if err := bank.CheckSupply(h.app.Store()); err != nil {
		t.Fatal(err)
	}
}

func TestBadEgressIsRefused(t *testing.T) {
	alice, bob := devAccount("alice"), devAccount("bob")
	hb := func(h *harness) []byte { return heartbeatAt(h.height) }
	tests := []struct {
		name string
		make func(h *harness, n teeNode) []byte
		want error
	}{
		{"forged signature", func(h *harness, n teeNode) []byte {
			m := egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))
			m.Signature[0] ^= 1
			return h.egressSubmit(alice, m)
		}, mq.ErrBadSignature},
		{"signed by another key", func(h *harness, n teeNode) []byte {
			m := egressMsg(newTEENode(t), 1, registryapi.TopicHeartbeat, hb(h))
			m.Egress.Sender = n.pub()
			return h.egressSubmit(alice, m)
		}, mq.ErrBadSignature},
		{"signed for another chain", func(h *harness, n teeNode) []byte {
			m := mq.SignEgress("other-chain", n.identity, mq.Egress{Version: mq.EgressVersion, Sender: n.pub(), Seq: 1, Topic: registryapi.TopicHeartbeat, Payload: hb(h)})
			return h.egressSubmit(alice, m)
		}, mq.ErrBadSignature},
		{"payload changed after signing", func(h *harness, n teeNode) []byte {
			m := egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))
			m.Egress.Payload = heartbeatAt(1)
			return h.egressSubmit(alice, m)
		}, mq.ErrBadSignature},
		{"malformed body", func(h *harness, n teeNode) []byte {
			return h.egressTx(alice, mq.MethodSubmit, "not an egress message")
		}, mq.ErrInvalid},
		{"unknown version", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, mq.SignEgress(testChain, n.identity, mq.Egress{Version: 9, Sender: n.pub(), Seq: 1, Topic: registryapi.TopicHeartbeat, Payload: hb(h)}))
		}, mq.ErrInvalid},
		{"sequence zero", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 0, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrInvalid},
		{"sequence gap", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 2, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrSequenceGap},
		{"gap after an accepted one", func(h *harness, n teeNode) []byte {
			h.mustSucceed(h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))))
			return h.egressSubmit(alice, egressMsg(n, 3, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrSequenceGap},
		{"duplicate relayed by another account", func(h *harness, n teeNode) []byte {
			m := egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))
			h.mustSucceed(h.egressSubmit(alice, m))
			return h.egressSubmit(bob, m)
		}, mq.ErrDuplicate},
		{"older sequence", func(h *harness, n teeNode) []byte {
			h.mustSucceed(h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))))
			h.mustSucceed(h.egressSubmit(alice, egressMsg(n, 2, registryapi.TopicHeartbeat, hb(h))))
			return h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrDuplicate},
		{"duplicate from a node deactivated since", func(h *harness, n teeNode) []byte {
			m := egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))
			h.mustSucceed(h.egressSubmit(alice, m))
			h.mustSucceed(h.egressTx(alice, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}}))
			return h.egressSubmit(bob, m)
		}, mq.ErrDuplicate},
		{"unregistered sender", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(newTEENode(t), 1, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrUnknownSender},
		{"deactivated by a policy change", func(h *harness, n teeNode) []byte {
			h.mustSucceed(h.egressTx(alice, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}}))
			return h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrInactiveSender},
		{"deactivated by expiry", func(h *harness, n teeNode) []byte {
			h.now = h.now.Add(time.Duration(registryapi.DefaultParams().ReattestSeconds) * time.Second)
			h.block()
			return h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h)))
		}, mq.ErrInactiveSender},
		{"unknown topic", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 1, "nobody.owns", hb(h)))
		}, mq.ErrUnknownTopic},
		{"republication topic", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 1, mq.TopicEgress, hb(h)))
		}, mq.ErrUnknownTopic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n := newWorkerHarness(t, alice)
			raw := tc.make(h, n)
			seq := h.egressSeq(n)
			before, _ := h.app.Info(context.Background(), nil)
			_, r := h.refusedTwice(t, raw, tc.want)
			after, _ := h.app.Info(context.Background(), nil)
			if after.LastBlockHeight != before.LastBlockHeight+1 {
				t.Fatal("the block did not commit")
			}
			if !bytes.Equal(before.LastBlockAppHash, after.LastBlockAppHash) {
				t.Fatal("a refused egress changed state")
			}
			if got := h.egressSeq(n); got != seq || len(h.republished(h.height)) != 0 {
				t.Fatalf("sequence %d → %d, or something republished", seq, got)
			}
			t.Logf("refused with: %s", r.Log)
		})
	}
}

// newWorkerHarness is a chain with a worker registered by op, one block
// past its registration so that a heartbeat can name an older block.
func newWorkerHarness(t *testing.T, op account) (*harness, teeNode) {
	t.Helper()
	h := newHarness(t)
	h.block()
	n := h.egressRegister(op, registryapi.RoleWorker)
	h.block()
	return h, n
}

// TestRejectedPayloadUsesTheSequence: a payload the topic's module refuses
// still uses up its sequence number (so the sender's stream goes on) and is
// republished, but changes nothing in the module and says why in an event.
func TestRejectedPayloadUsesTheSequence(t *testing.T) {
	alice := devAccount("alice")
	hb := func(h *harness) []byte { return heartbeatAt(h.height) }
	tests := []struct {
		name string
		make func(h *harness, n teeNode) []byte
		want error
	}{
		{"heartbeat from the future", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, heartbeatAt(h.height+1)))
		}, registryapi.ErrBadHeartbeat},
		{"heartbeat of height zero", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, heartbeatAt(0)))
		}, registryapi.ErrBadHeartbeat},
		{"heartbeat payload garbage", func(h *harness, n teeNode) []byte {
			return h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, []byte{0xff, 0x00}))
		}, registryapi.ErrBadHeartbeat},
		{"heartbeat older than the last", func(h *harness, n teeNode) []byte {
			h.mustSucceed(h.egressSubmit(alice, egressMsg(n, 1, registryapi.TopicHeartbeat, hb(h))))
			return h.egressSubmit(alice, egressMsg(n, 2, registryapi.TopicHeartbeat, heartbeatAt(h.height-2)))
		}, registryapi.ErrStaleHeartbeat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n := newWorkerHarness(t, alice)
			raw := tc.make(h, n)
			seq, last := h.egressSeq(n), h.node(n).LastHeartbeat
			if r := h.check(raw); r.Code != 0 {
				t.Fatalf("CheckTx refused: %s", r.Log)
			}
			r := h.block(raw).TxResults[0]
			if r.Code != 0 || !hasEvent(r.Events, mq.EventRejected) || hasEvent(r.Events, mq.EventAccepted) {
				t.Fatalf("FinalizeBlock: code %d %q, events %v", r.Code, r.Log, r.Events)
			}
			if !strings.Contains(fmt.Sprint(r.Events), tc.want.Error()) {
				t.Fatalf("rejection does not say %q: %v", tc.want, r.Events)
			}
			if got := h.egressSeq(n); got != seq+1 || len(h.republished(h.height)) != 1 {
				t.Fatalf("sequence %d → %d, or not republished", seq, got)
			}
			if got := h.node(n).LastHeartbeat; got != last {
				t.Fatalf("rejected heartbeat moved LastHeartbeat %d → %d", last, got)
			}
		})
	}
}

// sharedTopic stands for a gatekeeper message every gatekeeper sends alike
// (a key hand-out): its owner counts how often it is applied.
type sharedTopic struct{}

const (
	sharedName      = "shared"
	sharedTopicName = "shared.handout"
)

var sharedApplied = state.NewKeyFormat(0xfe, 0x01) // test only: → count

func (sharedTopic) Name() string                                       { return sharedName }
func (sharedTopic) InitGenesis(*module.Context, json.RawMessage) error { return nil }
func (sharedTopic) Methods() []module.Method                           { return nil }
func (sharedTopic) EgressTopics() []string                             { return []string{sharedTopicName} }
func (sharedTopic) Query(state.IterReader, string, []byte) (any, error) {
	return nil, module.ErrUnknownQuery
}
func (sharedTopic) HandleEgress(ctx *module.Context, _ module.EgressSender, _ string, _ []byte) error {
	raw, err := ctx.Store.Get(sharedApplied.Key())
	if err != nil {
		return err
	}
	ctx.Store.Set(sharedApplied.Key(), append(raw, 1))
	return nil
}

func sharedCount(h *harness) int {
	raw, err := h.app.Store().Get(sharedApplied.Key())
	if err != nil {
		h.t.Fatal(err)
	}
	return len(raw)
}

// newHarnessWith is newHarness with extra modules, each with an empty
// genesis section.
func newHarnessWith(t *testing.T, extra ...module.Module) *harness {
	t.Helper()
	alice, bob, carol := devAccount("alice"), devAccount("bob"), devAccount("carol")
	dir := t.TempDir()
	a, err := newApp(testChain, dir, slog.Default(), append(Modules(), extra...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	g, err := DefaultGenesis(bank.DefaultGenesis(alice.addr, bob.addr, carol.addr), registryapi.DefaultGenesis(alice.addr, true))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range extra {
		g.Modules[m.Name()] = json.RawMessage(`{}`)
	}
	raw, _ := json.Marshal(g)
	if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: testChain, Time: time.Unix(1, 0), AppStateBytes: raw}); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, app: a, dir: dir, now: time.Unix(1_700_000_000, 0)}
}

func TestGatekeeperContentAcceptedOnce(t *testing.T) {
	h := newHarnessWith(t, sharedTopic{})
	h.block()
	alice, bob := devAccount("alice"), devAccount("bob")
	h.mustSucceed(h.egressTx(alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob.addr}, Allowed: true}))
	gk1, gk2 := h.egressRegister(bob, registryapi.RoleGatekeeper), h.egressRegister(bob, registryapi.RoleGatekeeper)
	worker := h.egressRegister(alice, registryapi.RoleWorker)
	handout := []byte("the same sealed key from every gatekeeper")
	steps := []struct {
		name    string
		from    teeNode
		seq     uint64
		topic   string
		payload []byte
		applied int // count after the step
		event   string
	}{
		{"first gatekeeper's copy counts", gk1, 1, sharedTopicName, handout, 1, mq.EventAccepted},
		{"second gatekeeper's copy is a duplicate", gk2, 1, sharedTopicName, handout, 1, mq.EventDuplicateContent},
		{"same gatekeeper again is a duplicate", gk1, 2, sharedTopicName, handout, 1, mq.EventDuplicateContent},
		{"other content counts", gk2, 2, sharedTopicName, []byte("other"), 2, mq.EventAccepted},
		{"workers are never deduplicated", worker, 1, sharedTopicName, handout, 3, mq.EventAccepted},
		{"not even against themselves", worker, 2, sharedTopicName, handout, 4, mq.EventAccepted},
	}
	for _, s := range steps {
		msg := egressMsg(s.from, s.seq, s.topic, s.payload)
		res := h.block(h.egressSubmit(alice, msg)).TxResults[0]
		if res.Code != 0 {
			t.Fatalf("%s: %s", s.name, res.Log)
		}
		routed := s.event == mq.EventAccepted
		if got := sharedCount(h); got != s.applied || !hasEvent(res.Events, s.event) || len(h.republished(h.height)) != map[bool]int{true: 1}[routed] {
			t.Fatalf("%s: applied %d (want %d), events %v, republished %d", s.name, got, s.applied, res.Events, len(h.republished(h.height)))
		}
		if seq := h.egressSeq(s.from); seq != s.seq {
			t.Fatalf("%s: sequence %d, want %d", s.name, seq, s.seq)
		}
	}
	// A heartbeat is about its sender: both gatekeepers' count.
	at := h.height
	for i, gk := range []teeNode{gk1, gk2} {
		h.mustSucceed(h.egressSubmit(alice, egressMsg(gk, 3, registryapi.TopicHeartbeat, heartbeatAt(at))))
		if got := h.node(gk).LastHeartbeat; got != at {
			t.Fatalf("gatekeeper %d heartbeat %d, want %d", i+1, got, at)
		}
	}
}

func TestEgressTopicOwnedTwiceRefusedAtStart(t *testing.T) {
	_, err := newApp(testChain, t.TempDir(), slog.Default(), append(Modules(), sharedTopic{}, sharedTopic{}))
	if err == nil || !strings.Contains(err.Error(), sharedTopicName) {
		t.Fatalf("duplicate topic owner: %v", err)
	}
}

func TestEgressSequenceQuery(t *testing.T) {
	h := newHarness(t)
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
		resp, _ := h.app.Query(context.Background(), &abci.QueryRequest{Path: mq.QuerySequence, Data: tc.data})
		var seq uint64
		if (resp.Code == 0) != tc.ok || (tc.ok && (codec.Unmarshal(resp.Value, &seq) != nil || seq != 0)) {
			t.Errorf("%s: code %d %q value %x", tc.name, resp.Code, resp.Log, resp.Value)
		}
	}
}
