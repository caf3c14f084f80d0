package compute_test

import (
	"testing"
	"time"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
)

// computingWorker starts a worker and returns it with its session after
// one more block, whose challenge (every session's, at testParams) it owes.
func (n *net) computingWorker() (apptest.TEENode, computeapi.Session, computeapi.Challenge) {
	n.T.Helper()
	w := n.worker(score)
	if err := n.start(w, minStake); err != nil {
		n.T.Fatal(err)
	}
	n.Block()
	cs := n.challenges()
	if len(cs) != 1 || !computeapi.Challenged(cs[0].Seed, w.Pub(), cs[0].Target) {
		n.T.Fatalf("block %d did not challenge the only worker: %+v", n.Height, cs)
	}
	return w, n.session(w), cs[0]
}

func TestChallengeAnswers(t *testing.T) {
	n := newNet(t)
	w, sess, c := n.computingWorker()
	answer := computeapi.Answer{Session: sess.ID, Challenge: c.Height}
	n.mustAccept(w, registryapi.TopicHeartbeat, n.heartbeat(answer))
	got := n.session(w)
	if got.LastChallenge != c.Height || got.LastAnswer != n.Height {
		t.Fatalf("after an answer: last challenge %d answered at %d, want %d at %d", got.LastChallenge, got.LastAnswer, c.Height, n.Height)
	}
	if n.Node(w).LastHeartbeat != n.Height-1 {
		t.Fatalf("the heartbeat carrying the answer was not recorded: %d", n.Node(w).LastHeartbeat)
	}
	// A heartbeat without answers is the registry's alone.
	n.mustAccept(w, registryapi.TopicHeartbeat, n.heartbeat())

	n.Block()
	open := n.challenges()[0]
	cases := []struct {
		name    string
		from    apptest.TEENode
		answers []computeapi.Answer
		want    error
	}{
		{"answered before", w, []computeapi.Answer{answer}, computeapi.ErrNotChallenged},
		{"before the session", w, []computeapi.Answer{{Session: sess.ID, Challenge: sess.StartHeight}}, computeapi.ErrNotChallenged},
		{"a future block", w, []computeapi.Answer{{Session: sess.ID, Challenge: n.Height + 5}}, computeapi.ErrNotChallenged},
		{"another session", w, []computeapi.Answer{{Session: sess.ID + 1, Challenge: open.Height}}, computeapi.ErrUnknownSession},
		{"from a gatekeeper", n.gk, []computeapi.Answer{{Session: sess.ID, Challenge: open.Height}}, computeapi.ErrNotWorker},
		{"out of order", w, []computeapi.Answer{{Session: sess.ID, Challenge: open.Height}, {Session: sess.ID, Challenge: open.Height - 1}}, computeapi.ErrInvalid},
		{"session zero", w, []computeapi.Answer{{Challenge: open.Height}}, computeapi.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			last := n.Node(c.from).LastHeartbeat
			n.mustRefuse(c.from, registryapi.TopicHeartbeat, n.heartbeat(c.answers...), c.want)
			if n.Node(c.from).LastHeartbeat != last {
				t.Fatal("a refused answer's heartbeat was recorded")
			}
		})
	}

	t.Run("after the window", func(t *testing.T) {
		// The record is still there one block past the window...
		n.Now = time.Unix(0, open.Time).Add(n.params.AnswerWindow)
		n.mustRefuse(w, registryapi.TopicHeartbeat, n.heartbeat(computeapi.Answer{Session: sess.ID, Challenge: open.Height}), computeapi.ErrLateAnswer)
		// ...and gone after the next.
		n.Block()
		n.mustRefuse(w, registryapi.TopicHeartbeat, n.heartbeat(computeapi.Answer{Session: sess.ID, Challenge: open.Height}), computeapi.ErrLateAnswer)
	})
	t.Run("on time, at the window's edge", func(t *testing.T) {
		n.Block()
		c := n.challenges()[0]
		n.Now = time.Unix(0, c.Time).Add(n.params.AnswerWindow - time.Second)
		n.mustAccept(w, registryapi.TopicHeartbeat, n.heartbeat(computeapi.Answer{Session: sess.ID, Challenge: c.Height}))
	})
}

// TestNotChallenged: with challenges rare, a block that did not challenge
// the worker cannot be answered.
func TestNotChallenged(t *testing.T) {
	n := newNet(t, func(p *computeapi.Params) { p.ChallengeEvery = 7 * 24 * time.Hour })
	w := n.worker(score)
	if err := n.start(w, minStake); err != nil {
		t.Fatal(err)
	}
	n.Block()
	c := n.challenges()[0]
	if computeapi.Challenged(c.Seed, w.Pub(), c.Target) {
		t.Skip("the worker drew a one-in-600,000 challenge")
	}
	n.mustRefuse(w, registryapi.TopicHeartbeat, n.heartbeat(computeapi.Answer{Session: n.session(w).ID, Challenge: c.Height}), computeapi.ErrNotChallenged)
}

// TestChallengesPrunedAfterWindow: the chain keeps a challenge only while
// it can be answered.
func TestChallengesPrunedAfterWindow(t *testing.T) {
	n := newNet(t)
	n.computingWorker()
	first := n.Height
	for range 3 {
		n.Block()
	}
	var c computeapi.Challenge
	if !n.hasChallenge(first, &c) {
		t.Fatalf("challenge of block %d gone within the window", first)
	}
	n.Now = time.Unix(0, c.Time).Add(n.params.AnswerWindow + time.Second)
	n.Block()
	if n.hasChallenge(first, &c) {
		t.Fatalf("challenge of block %d kept after its window", first)
	}
	if !n.hasChallenge(n.Height, &c) {
		t.Fatal("the newest challenge is not kept")
	}
}

func (n *net) hasChallenge(height int64, c *computeapi.Challenge) bool {
	n.T.Helper()
	raw, err := n.App.Store().Get(computeapi.ChallengeKeyOf(height))
	if err != nil {
		n.T.Fatal(err)
	}
	if raw == nil {
		return false
	}
	if err := codec.Unmarshal(raw, c); err != nil {
		n.T.Fatal(err)
	}
	return true
}
