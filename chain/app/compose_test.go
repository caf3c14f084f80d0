package app_test

// Tests of how the application composes modules. They need a module of
// their own, which only this package's tests can compose in (through
// NewWithModules), so the mq module's gatekeeper deduplication is tested
// here rather than in chain/mq.

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/mq"
)

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

func sharedCount(h *apptest.Chain) int {
	h.T.Helper()
	raw, err := h.App.Store().Get(sharedApplied.Key())
	if err != nil {
		h.T.Fatal(err)
	}
	return len(raw)
}

// withModules composes extra into the application, each with an empty
// genesis section.
func withModules(extra ...module.Module) []apptest.Option {
	open := func(chainID, dir string) (*app.App, error) {
		return app.NewWithModules(chainID, dir, slog.Default(), append(app.Modules(), extra...))
	}
	sections := func(g *app.Genesis) {
		for _, m := range extra {
			g.Modules[m.Name()] = json.RawMessage(`{}`)
		}
	}
	return []apptest.Option{apptest.WithApp(open), apptest.WithGenesis(sections)}
}

func TestGatekeeperContentAcceptedOnce(t *testing.T) {
	h := apptest.New(t, withModules(sharedTopic{})...)
	h.Block()
	alice, bob := apptest.Alice, apptest.Bob
	h.MustSucceed(h.Tx(alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob.Addr}, Allowed: true}))
	gk1, gk2 := h.Register(bob, registryapi.RoleGatekeeper), h.Register(bob, registryapi.RoleGatekeeper)
	worker := h.Register(alice, registryapi.RoleWorker)
	handout := []byte("the same sealed key from every gatekeeper")
	steps := []struct {
		name    string
		from    apptest.TEENode
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
		msg := apptest.Egress(s.from, s.seq, s.topic, s.payload)
		res := h.Block(h.Submit(alice, msg)).TxResults[0]
		if res.Code != 0 {
			t.Fatalf("%s: %s", s.name, res.Log)
		}
		want := mq.OutcomeAccepted
		if s.event == mq.EventDuplicateContent {
			want = mq.OutcomeDuplicate
		}
		rep := h.Republished(h.Height)
		if got := sharedCount(h); got != s.applied || !apptest.HasEvent(res.Events, s.event) || len(rep) != 1 || rep[0].Outcome != want {
			t.Fatalf("%s: applied %d (want %d), events %v, republished %+v (want one %s)", s.name, got, s.applied, res.Events, rep, want)
		}
		if seq := h.EgressSeq(s.from); seq != s.seq {
			t.Fatalf("%s: sequence %d, want %d", s.name, seq, s.seq)
		}
	}
	// A heartbeat is about its sender: both gatekeepers' count.
	at := h.Height
	for i, gk := range []apptest.TEENode{gk1, gk2} {
		h.MustSucceed(h.Submit(alice, apptest.Egress(gk, 3, registryapi.TopicHeartbeat, apptest.Heartbeat(at))))
		if got := h.Node(gk).LastHeartbeat; got != at {
			t.Fatalf("gatekeeper %d heartbeat %d, want %d", i+1, got, at)
		}
	}
}

func TestEgressTopicOwnedTwiceRefusedAtStart(t *testing.T) {
	_, err := app.NewWithModules(apptest.ChainID, t.TempDir(), slog.Default(), append(app.Modules(), sharedTopic{}, sharedTopic{}))
	if err == nil || !strings.Contains(err.Error(), sharedTopicName) {
		t.Fatalf("duplicate topic owner: %v", err)
	}
}
