// Package rewards is the enclave module of the economy, on both sides of
// a computing session.
//
// On a worker it reports the performance score the enclave measured
// (package benchmark) once registered, keeps its own session, and when a
// block's challenge picks it (computeapi.Challenged) queues an answer that
// the registry view's next heartbeat carries at once (registry.heartbeat
// is the one liveness message; there is no second topic).
//
// On a gatekeeper it replays the same challenge rule for every session,
// so it knows who owes what; learns from the chain's republication of
// accepted heartbeats who answered; marks a session unresponsive when an
// answer is overdue and responsive again when it answers a later
// challenge; keeps each session's value V (grown while computing, decayed
// while unresponsive, with tokenomics); and at the end of every
// settlement period of block time divides the period's emission among the
// responsive sessions by share and posts the settlement (compute.
// settlement, in parts). All of it is a pure function of the verified
// blocks, in integer and fixed-point arithmetic, so every gatekeeper posts
// the same bytes and the chain counts them once.
package rewards

import (
	"bytes"
	"fmt"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/worker/enclave/module"
)

// Name is the module's name and checkpoint section.
const Name = "rewards"

// maxQueuedAnswers bounds a worker's answers waiting for a heartbeat
// (the oldest go first: they are the likeliest to be late anyway).
const maxQueuedAnswers = 4 * computeapi.MaxAnswers

// Registry is what the module reads of the registry view.
type Registry interface {
	Registered() bool
}

// Config starts the module.
type Config struct {
	// Params are the compute module's genesis params.
	Params computeapi.Params
	// Score is the performance score this worker measured (0: none to
	// report, as on a gatekeeper).
	Score uint64
}

// Module is the rewards module.
type Module struct {
	reg   Registry
	score uint64
	st    State
	rates tokenomics.Rates

	// Per-block scratch: the settlements due this block, worked out
	// before its messages (a period ends before the block's events) and
	// sent at its end.
	out [][]byte
}

var (
	_ module.Follower       = (*Module)(nil)
	_ module.EgressFollower = (*Module)(nil)
)

// New is the module at genesis.
func New(reg Registry, cfg Config) (*Module, error) {
	m := &Module{reg: reg, score: cfg.Score}
	if err := m.setParams(cfg.Params); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Module) setParams(p computeapi.Params) error {
	r, err := tokenomics.NewRates(p.Economy)
	if err != nil {
		return fmt.Errorf("rewards: %w", err)
	}
	m.st.Params, m.rates = p, r
	return nil
}

// Name implements module.Module.
func (*Module) Name() string { return Name }

// Topics implements module.Module.
func (*Module) Topics() []string {
	return []string{computeapi.TopicSession, computeapi.TopicChallenge, computeapi.TopicParams}
}

// Follows implements module.Follower: this node's registrations, after
// which a worker reports its score again.
func (*Module) Follows() []string { return []string{registryapi.TopicNode} }

// EgressTopics implements module.EgressFollower: accepted heartbeats carry
// the answers to challenges.
func (*Module) EgressTopics() []string { return []string{registryapi.TopicHeartbeat} }

func (*Module) gatekeeper(ctx *module.Context) bool { return ctx.Role == registryapi.RoleGatekeeper }

// BeginBlock implements module.Module: on a gatekeeper, the periods that
// ended by this block's time settle first, then the challenges whose
// answer window closed before it mark their sessions unresponsive; the
// block's events happen after both, at its time.
func (m *Module) BeginBlock(ctx *module.Context) {
	m.out = nil
	if !m.gatekeeper(ctx) {
		return
	}
	now := ctx.Time.UnixNano()
	m.settleDue(ctx, now)
	m.expire(now)
}

// Fold implements module.Module.
func (m *Module) Fold(ctx *module.Context, msg mq.Message) (module.Effects, error) {
	switch msg.Topic {
	case computeapi.TopicSession:
		return module.Effects{}, m.onSession(ctx, msg.Payload)
	case computeapi.TopicChallenge:
		return module.Effects{}, m.onChallenge(ctx, msg.Payload)
	case computeapi.TopicParams:
		var p computeapi.Params
		if err := codec.Unmarshal(msg.Payload, &p); err != nil {
			return module.Effects{}, err
		}
		return module.Effects{}, m.setParams(p)
	case registryapi.TopicNode:
		return module.Effects{}, m.onNode(ctx, msg.Payload)
	}
	return module.Effects{}, fmt.Errorf("rewards: no handler for topic %q", msg.Topic)
}

// FoldEgress implements module.EgressFollower: a heartbeat the chain
// accepted, answers included (the compute module refuses the whole
// heartbeat if one answer is late or owed by no one).
func (m *Module) FoldEgress(ctx *module.Context, se mq.SignedEgress) (module.Effects, error) {
	if !m.gatekeeper(ctx) {
		return module.Effects{}, nil
	}
	var hb registryapi.Heartbeat
	if err := codec.Unmarshal(se.Egress.Payload, &hb); err != nil {
		return module.Effects{}, fmt.Errorf("rewards: accepted heartbeat: %w", err)
	}
	now := ctx.Time.UnixNano()
	for _, a := range hb.Answers {
		acc := m.st.account(a.Session)
		if acc == nil || acc.stopped() || !bytes.Equal(acc.Worker, se.Egress.Sender) {
			continue
		}
		acc.removeOwed(a.Challenge)
		if acc.Unresponsive {
			acc.advance(m.rates, now)
			acc.Unresponsive = false
		}
	}
	return module.Effects{}, nil
}

// EndBlock implements module.Module: a gatekeeper posts the block's
// settlements, a worker its score once registered.
func (m *Module) EndBlock(ctx *module.Context) module.Effects {
	var eff module.Effects
	if !m.reg.Registered() {
		return eff
	}
	for _, p := range m.out {
		eff.Send(computeapi.TopicSettlement, p)
	}
	m.out = nil
	if ctx.Role == registryapi.RoleWorker && m.score > 0 && !m.st.Benchmarked {
		m.st.Benchmarked = true
		eff.Send(computeapi.TopicBenchmark, codec.MustMarshal(computeapi.Benchmark{Score: min(m.score, computeapi.MaxScore)}))
	}
	return eff
}

// onNode: this node registered (again): its score goes to the chain again.
func (m *Module) onNode(ctx *module.Context, payload []byte) error {
	var ev registryapi.NodeEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Kind == "registered" && bytes.Equal(ev.Node.IdentityKey, ctx.Identity) {
		m.st.Benchmarked = false
	}
	return nil
}

func (m *Module) onSession(ctx *module.Context, payload []byte) error {
	var ev computeapi.SessionEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if m.gatekeeper(ctx) {
		m.account(ev)
	} else if bytes.Equal(ev.Session.Worker, ctx.Identity) {
		m.mine(ev)
	}
	return nil
}

// account follows a session's life on a gatekeeper. Unresponsive and
// recovered events are the chain applying settlements this module
// computed: nothing new.
func (m *Module) account(ev computeapi.SessionEvent) {
	s := ev.Session
	switch ev.Kind {
	case computeapi.KindStarted:
		if m.st.Start == 0 {
			// The economy's clock starts with its first session, on
			// chain as here.
			m.st.Start = s.StartedAt
		}
		m.st.addAccount(Account{
			Session: s.ID, Worker: s.Worker, Score: s.Score, Confidence: s.Confidence,
			StartHeight: s.StartHeight, V: s.V, UpdatedAt: s.StartedAt,
		})
	case computeapi.KindStopped:
		a := m.st.account(s.ID)
		switch {
		case a == nil || a.stopped():
		case s.StoppedAt <= m.settledUntil():
			// Stopped right at the end of the period just settled: it
			// computed none of the next (the chain agrees, and would
			// refuse it there).
			m.st.removeAccount(s.ID)
		default:
			a.advance(m.rates, s.StoppedAt)
			a.StopHeight, a.Owed = s.StopHeight, nil
		}
	case computeapi.KindReleased:
		m.st.removeAccount(s.ID)
	}
}

// mine follows the worker's own session.
func (m *Module) mine(ev computeapi.SessionEvent) {
	s := ev.Session
	switch ev.Kind {
	case computeapi.KindStarted:
		m.st.Mine, m.st.Answers = Mine{Session: s.ID, StartHeight: s.StartHeight}, nil
	case computeapi.KindStopped:
		if m.st.Mine.Session == s.ID {
			// The chain takes answers from sessions in session only: the
			// ones still queued would only get a heartbeat refused.
			m.st.Mine.StopHeight, m.st.Answers = s.StopHeight, nil
		}
	case computeapi.KindReleased:
		if m.st.Mine.Session == s.ID {
			m.st.Mine, m.st.Answers = Mine{}, nil
		}
	}
}

// onChallenge: a worker picked by the block's challenge queues its answer;
// a gatekeeper notes every session the challenge picks.
func (m *Module) onChallenge(ctx *module.Context, payload []byte) error {
	var c computeapi.Challenge
	if err := codec.Unmarshal(payload, &c); err != nil {
		return err
	}
	if !m.gatekeeper(ctx) {
		if m.st.Mine.owes(c.Height) && computeapi.Challenged(c.Seed, ctx.Identity, c.Target) {
			m.st.Answers = append(m.st.Answers, computeapi.Answer{Session: m.st.Mine.Session, Challenge: c.Height})
			if over := len(m.st.Answers) - maxQueuedAnswers; over > 0 {
				m.st.Answers = m.st.Answers[over:]
			}
		}
		return nil
	}
	m.challenge(c)
	return nil
}

// challenge notes, on a gatekeeper, every session c picks.
func (m *Module) challenge(c computeapi.Challenge) {
	deadline := c.Time + int64(m.st.Params.AnswerWindow)
	for i := range m.st.Accounts {
		a := &m.st.Accounts[i]
		if a.stopped() || !a.owes(c.Height) || !computeapi.Challenged(c.Seed, a.Worker, c.Target) {
			continue
		}
		a.Owed = append(a.Owed, c.Height)
		m.st.addDue(Due{Deadline: deadline, Session: a.Session, Height: c.Height})
	}
}

// expire marks unresponsive, as of now, the sessions that did not answer a
// challenge whose window closed before now.
func (m *Module) expire(now int64) {
	n := 0
	for n < len(m.st.Due) && m.st.Due[n].Deadline < now {
		d := m.st.Due[n]
		n++
		a := m.st.account(d.Session)
		if a == nil || a.stopped() || !a.removeOwed(d.Height) || a.Unresponsive {
			continue
		}
		a.advance(m.rates, now)
		a.Unresponsive = true
	}
	m.st.Due = m.st.Due[n:]
	if len(m.st.Due) == 0 {
		m.st.Due = nil
	}
}

// TakeAnswers hands the registry view up to max of the worker's queued
// answers for the heartbeat it sends now.
func (m *Module) TakeAnswers(max int) []computeapi.Answer {
	n := min(max, len(m.st.Answers))
	if n == 0 {
		return nil
	}
	out := m.st.Answers[:n:n]
	m.st.Answers = m.st.Answers[n:]
	if len(m.st.Answers) == 0 {
		m.st.Answers = nil
	}
	return out
}

// MarshalState implements module.Module.
func (m *Module) MarshalState() []byte { return codec.MustMarshal(m.st) }

// UnmarshalState implements module.Module.
func (m *Module) UnmarshalState(b []byte) error {
	var st State
	if err := codec.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("rewards state: %w", err)
	}
	r, err := tokenomics.NewRates(st.Params.Economy)
	if err != nil {
		return fmt.Errorf("rewards state: %w", err)
	}
	m.st, m.rates = st, r
	return nil
}
