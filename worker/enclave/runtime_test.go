package enclave

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/worker/enclave/registryview"
	"github.com/phala-go/phala/worker/lightclient"
)

func TestNodeKeysSealedAcrossRestarts(t *testing.T) {
	c := chain(t)
	simDir := t.TempDir()
	tests := []struct {
		name    string
		prepare func(t *testing.T, home string)
		enclave byte
		same    bool // the restarted runtime has the first one's identity
		refused bool
	}{
		{"same enclave reuses the keys", func(*testing.T, string) {}, 1, true, false},
		{"another enclave cannot unseal them", func(*testing.T, string) {}, 2, false, true},
		{"a tampered key file is refused", func(t *testing.T, home string) {
			p := filepath.Join(home, KeysFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, 1, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			first := c.open(t, home, newSim(t, simDir, 1), 0)
			id := first.IdentityKey()
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			tc.prepare(t, home)
			rt, err := Open(Config{Home: home, Genesis: c.doc, Platform: newSim(t, simDir, tc.enclave)})
			if tc.refused {
				if !errors.Is(err, ErrKeys) {
					t.Fatalf("want ErrKeys, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close()
			if bytes.Equal(rt.IdentityKey(), id) != tc.same {
				t.Fatalf("identity reused = %v, want %v", !tc.same, tc.same)
			}
		})
	}
}

func TestApplyRefusesBadBatchesAndChangesNothing(t *testing.T) {
	c := chain(t)
	rt := c.open(t, t.TempDir(), newSim(t, t.TempDir(), 1), 0)
	defer rt.Close()
	c.feed(t, rt, 3)
	tests := []struct {
		name  string
		batch func() relaywire.Batch
		want  error
	}{
		{"replayed", func() relaywire.Batch { return c.batch(t, 2, 3) }, lightclient.ErrWrongHeight},
		{"gap", func() relaywire.Batch { return c.batch(t, 5, 6) }, lightclient.ErrWrongHeight},
		{"forged message list", func() relaywire.Batch {
			b := c.batch(t, 4, 5)
			b.Blocks[1].Parent.Messages = append(b.Blocks[1].Parent.Messages, mq.Message{Topic: registryapi.TopicNode, Payload: []byte{1}})
			if b.Blocks[1].Parent.StateRoot == nil {
				b.Blocks[1].Parent.StateRoot = make([]byte, 32)
			}
			return b
		}, lightclient.ErrAppHash},
		{"no commit", func() relaywire.Batch { b := c.batch(t, 4, 5); b.Commit = nil; return b }, lightclient.ErrBadCommit},
		{"wrong version", func() relaywire.Batch { b := c.batch(t, 4, 4); b.Version = 9; return b }, lightclient.ErrMalformed},
	}
	c.waitHeight(t, 7)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := rt.Status()
			err := rt.Apply(tc.batch())
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			if after := rt.Status(); after.Height != before.Height || !bytes.Equal(after.StateHash, before.StateHash) {
				t.Fatalf("a refused batch changed the state: %d → %d", before.Height, after.Height)
			}
		})
	}
}

// TestRegistrationHeartbeatConfirmationAndCheckpoints walks a runtime
// through its life on a real chain: evidence, registration, the heartbeat
// egress, its confirmation, the periodic heartbeat, and checkpoints that
// resume to the same state a replay from genesis reaches.
func TestRegistrationHeartbeatConfirmationAndCheckpoints(t *testing.T) {
	c := chain(t)
	simDir, home := t.TempDir(), t.TempDir()
	platform := newSim(t, simDir, 1)
	rt := c.open(t, home, platform, 5)
	defer func() { rt.Close() }()
	alice := devKey("alice")
	op := address.FromPublicKey(alice.Public().(ed25519.PublicKey))

	if _, err := rt.Evidence(op); !errors.Is(err, ErrNoAnchor) {
		t.Fatalf("evidence before any block: %v", err)
	}
	c.feed(t, rt, c.tip())
	ev, err := rt.Evidence(op)
	if err != nil {
		t.Fatal(err)
	}
	if st := rt.Status(); ev.AnchorHeight != st.Height || !bytes.Equal(ev.AnchorHash, st.BlockHash) || ev.Role != uint8(registryapi.RoleWorker) {
		t.Fatalf("evidence anchored at %d, status at %d", ev.AnchorHeight, st.Height)
	}
	if last, ok := rt.LastEvidence(); !ok || !bytes.Equal(last.Quote, ev.Quote) {
		t.Fatal("LastEvidence does not return the newest evidence")
	}

	ctx := testCtx(t, time.Minute)
	inc := registerAnchored(t, c.cl, alice, registryapi.Register{Role: registryapi.Role(ev.Role), IdentityKey: ev.IdentityKey, EncryptionKey: ev.EncryptionKey, AnchorHeight: ev.AnchorHeight, Quote: ev.Quote})
	regHeight := inc.Height
	c.feed(t, rt, regHeight+1)
	if !rt.Status().Registered {
		t.Fatal("the runtime did not see its registration")
	}
	if n, ok := rt.registry.Node(rt.IdentityKey()); !ok || !n.Active {
		t.Fatal("the registry view lacks this node")
	}
	out := rt.Outbox().Messages
	if len(out) == 0 || out[0].Egress.Seq != 1 || out[0].Egress.Topic != registryapi.TopicHeartbeat {
		t.Fatalf("outbox after registration: %+v", out)
	}
	var hb registryapi.Heartbeat
	if err := codec.Unmarshal(out[0].Egress.Payload, &hb); err != nil || hb.Height != regHeight {
		t.Fatalf("heartbeat names %d, registration was at %d (%v)", hb.Height, regHeight, err)
	}

	// Unsubmitted, the heartbeat is not joined by more: two periods later
	// the outbox still holds the one, and the worker's score report
	// (compute.benchmark) sent with it.
	c.feed(t, rt, (regHeight/HeartbeatEvery+2)*HeartbeatEvery+1)
	got := rt.Outbox().Messages
	if len(got) != 2 || !bytes.Equal(codec.MustMarshal(got[0]), codec.MustMarshal(out[0])) || got[1].Egress.Topic != computeapi.TopicBenchmark {
		t.Fatalf("outbox two heartbeat periods later: %d messages, want the first heartbeat and the score report", len(got))
	}
	if bm, err := computeapi.DecodeBenchmark(got[1].Egress.Payload); err != nil || bm.Score == 0 {
		t.Fatalf("score report %+v: %v", bm, err)
	}

	// The relay's job: submit the egress; the chain republishes it.
	sub, err := c.cl.SubmitEgress(ctx, alice, out[0])
	if err != nil || sub.Err() != nil {
		t.Fatalf("submit egress: %v %v", err, sub.Err())
	}
	c.feed(t, rt, sub.Height+1)
	for _, m := range rt.Outbox().Messages {
		if m.Egress.Seq <= 1 {
			t.Fatalf("seq %d still in the outbox after the chain republished it", m.Egress.Seq)
		}
	}

	// The periodic heartbeat.
	next := (rt.Status().Height/HeartbeatEvery + 1) * HeartbeatEvery
	c.feed(t, rt, next+1)
	out = rt.Outbox().Messages
	if len(out) == 0 {
		t.Fatalf("no heartbeat by height %d", next)
	}
	if err := codec.Unmarshal(out[len(out)-1].Egress.Payload, &hb); err != nil || hb.Height%HeartbeatEvery != 0 {
		t.Fatalf("periodic heartbeat names %d (%v)", hb.Height, err)
	}

	// Checkpoints: restart from the newest, continue, and compare with a
	// replay from genesis by the same identity in another home.
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(checkpointStore{dir: filepath.Join(home, CheckpointsDir)}.heights()); n != keepCheckpoints {
		t.Fatalf("%d checkpoint files kept, want %d", n, keepCheckpoints)
	}
	closedAt := rt.Status()
	rt = c.open(t, home, platform, 5)
	if got := rt.Status(); got.Height != closedAt.Height || !bytes.Equal(got.StateHash, closedAt.StateHash) {
		t.Fatalf("resumed at %d %x, closed at %d %x", got.Height, got.StateHash, closedAt.Height, closedAt.StateHash)
	}
	target := c.tip() + 2
	c.feed(t, rt, target)

	replayHome := t.TempDir()
	copyFile(t, filepath.Join(home, KeysFile), filepath.Join(replayHome, KeysFile))
	// The sealed score is the node's own input, like its keys: a replay
	// with another score would report another one.
	copyFile(t, filepath.Join(home, ScoreFile), filepath.Join(replayHome, ScoreFile))
	replay := c.open(t, replayHome, platform, 1_000_000)
	defer replay.Close()
	if replay.Status().Height != 0 {
		t.Fatal("the replay did not start from genesis")
	}
	c.feed(t, replay, target)
	a, b := rt.Status(), replay.Status()
	if !bytes.Equal(a.StateHash, b.StateHash) || !bytes.Equal(a.IdentityKey, b.IdentityKey) {
		t.Fatalf("checkpoint+continue %x, replay from genesis %x", a.StateHash, b.StateHash)
	}
	ra, rb := rt.Outbox().Messages, replay.Outbox().Messages
	if !bytes.Equal(codec.MustMarshal(ra), codec.MustMarshal(rb)) {
		t.Fatal("replay regenerated different egress")
	}
	if seq, err := c.cl.EgressSequence(ctx, rt.IdentityKey()); err != nil || seq != 1 {
		t.Fatalf("chain sequence %d (%v)", seq, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryEventsFromChain(t *testing.T) {
	c := chain(t)
	rt := c.open(t, t.TempDir(), newSim(t, t.TempDir(), 1), 0)
	defer rt.Close()
	view := func() *registryview.Module {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return rt.registry
	}
	if v := view(); !v.Policy().AllowSim || len(v.Grants()) != 1 {
		t.Fatalf("genesis registry view: %+v %+v", v.Policy(), v.Grants())
	}
	ctx := testCtx(t, time.Minute)
	alice := devKey("alice")
	grant := registryapi.Grant{IdentityKey: bytes.Repeat([]byte{0x42}, ed25519.PublicKeySize)}
	policy := view().Policy()
	policy.MinTCBEvalDataNumber = 99
	steps := []struct {
		name   string
		method string
		body   any
		check  func(v *registryview.Module) bool
	}{
		{"gatekeeper granted", registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: grant, Allowed: true}, func(v *registryview.Module) bool {
			return len(v.Grants()) == 2
		}},
		{"policy changed", registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: policy}, func(v *registryview.Module) bool {
			return v.Policy().MinTCBEvalDataNumber == 99 && v.Policy().AllowSim
		}},
		{"gatekeeper revoked", registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: grant, Allowed: false}, func(v *registryview.Module) bool {
			return len(v.Grants()) == 1
		}},
	}
	for _, s := range steps {
		inc, err := c.cl.Send(ctx, alice, s.method, s.body)
		if err != nil || inc.Err() != nil {
			t.Fatalf("%s: %v %v", s.name, err, inc.Err())
		}
		c.feed(t, rt, inc.Height+1)
		if !s.check(view()) {
			t.Fatalf("%s: view %+v %+v", s.name, view().Policy(), view().Grants())
		}
	}
}

func TestGatekeeperMode(t *testing.T) {
	c := chain(t)
	rt, err := Open(Config{Home: t.TempDir(), Genesis: c.doc, Platform: newSim(t, t.TempDir(), 1), Gatekeeper: true, Operator: aliceAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c.feed(t, rt, 2)
	ev, err := rt.Evidence(address.FromPublicKey(devKey("alice").Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if rt.Status().Role != uint8(registryapi.RoleGatekeeper) || ev.Role != uint8(registryapi.RoleGatekeeper) {
		t.Fatalf("role %d, evidence role %d", rt.Status().Role, ev.Role)
	}
}
