package enclave

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/enclave/keys"
)

// lockedBuffer collects the log lines of every runtime of a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// node is a runtime under test with what reopening it needs.
type keyNode struct {
	name       string
	home       string
	platform   tee.Platform
	gatekeeper bool
	operator   ed25519.PrivateKey // pinned at its first start; nil: alice
	rt         *Runtime
}

func (c *testChain) openNode(t *testing.T, n *keyNode, logw io.Writer) {
	t.Helper()
	op := n.operator
	if op == nil {
		op = devKey("alice")
	}
	rt, err := Open(Config{Home: n.home, Genesis: c.doc, Platform: n.platform, CheckpointEvery: 1_000_000, Gatekeeper: n.gatekeeper,
		Operator: address.FromPublicKey(op.Public().(ed25519.PublicKey)),
		Log:      slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("open %s: %v", n.name, err)
	}
	n.rt = rt
}

// register has operator register n's keys, anchored at the chain's tip.
func (c *testChain) register(t *testing.T, n *keyNode, operator ed25519.PrivateKey) int64 {
	t.Helper()
	c.feed(t, n.rt, c.tip())
	ev, err := n.rt.Evidence(address.FromPublicKey(operator.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	inc := registerAnchored(t, c.cl, operator, registryapi.Register{Role: registryapi.Role(ev.Role), IdentityKey: ev.IdentityKey, EncryptionKey: ev.EncryptionKey, AnchorHeight: ev.AnchorHeight, Quote: ev.Quote})
	return inc.Height
}

// registerAnchored sends a registration until the chain has executed its
// anchor block: CometBFT serves a block (which the runtime verifies and
// anchors to) before the application executes it, and the registry then
// refuses the anchor as not executed yet.
func registerAnchored(t *testing.T, cl *client.Client, operator ed25519.PrivateKey, body registryapi.Register) client.Included {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		inc, err := cl.Register(ctx, operator, body)
		if err == nil {
			err = inc.Err()
		}
		if err == nil {
			return inc
		}
		if !errors.Is(err, registryapi.ErrStaleAnchor) {
			t.Fatalf("register: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("register: %v (still refused when the deadline passed)", err)
		case <-tick.C:
		}
	}
}

// admin sends an admin transaction as alice and returns its height.
func (c *testChain) admin(t *testing.T, method string, body any) int64 {
	t.Helper()
	inc, err := c.cl.Send(testCtx(t, time.Minute), devKey("alice"), method, body)
	if err != nil || inc.Err() != nil {
		t.Fatalf("%s: %v %v", method, err, inc.Err())
	}
	return inc.Height
}

// relay submits what the chain has not accepted yet of rt's outbox, as a
// relay would.
func (c *testChain) relay(t *testing.T, rt *Runtime) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	last, err := c.cl.EgressSequence(ctx, rt.IdentityKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, se := range rt.Outbox().Messages {
		if se.Egress.Seq <= last {
			continue
		}
		inc, err := c.cl.SubmitEgress(ctx, devKey("alice"), se)
		if errors.Is(err, mq.ErrDuplicate) {
			continue
		}
		if err != nil || inc.Err() != nil {
			t.Fatalf("submit egress seq %d: %v %v", se.Egress.Seq, err, inc.Err())
		}
	}
}

// pump feeds and relays every node until done holds.
func (c *testChain) pump(t *testing.T, nodes []*keyNode, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		tip := c.tip()
		for _, n := range nodes {
			c.feed(t, n.rt, tip)
		}
		if done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		for _, n := range nodes {
			c.relay(t, n.rt)
		}
		c.waitHeight(t, c.tip()+1)
	}
}

func (c *testChain) masterInfo(t *testing.T) keysapi.MasterInfo {
	t.Helper()
	var mi keysapi.MasterInfo
	if err := c.cl.Query(testCtx(t, 10*time.Second), keysapi.QueryMaster, nil, &mi); err != nil {
		t.Fatal(err)
	}
	return mi
}

func holds(rt *Runtime, gens ...uint32) bool {
	return slices.Equal(rt.KeyStatus().MasterGenerations, gens)
}

// heldMasters are the secrets of a runtime's keystore (test only).
func heldMasters(rt *Runtime) [][]byte {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.ks.Secrets()
}

// TestKeyManagementOnChain walks the key hierarchy through a real chain:
// genesis of the master key, hand-over, rotation, a cluster and a
// contract, restarts in the middle of a hand-over and of a rotation, and
// checks that nothing is ever sealed to a node that should not have it and
// that no secret leaks into blocks, outboxes, checkpoints or logs.
func TestKeyManagementOnChain(t *testing.T) {
	c := chain(t)
	logs := &lockedBuffer{}
	simDir := t.TempDir()
	mk := func(name string, gatekeeper bool, operator ...ed25519.PrivateKey) *keyNode {
		n := &keyNode{name: name, home: t.TempDir(), platform: newSim(t, simDir, 1), gatekeeper: gatekeeper}
		if len(operator) > 0 {
			n.operator = operator[0]
		}
		c.openNode(t, n, logs)
		return n
	}
	a, b, gc, w := mk("gatekeeper A", true), mk("gatekeeper B", true), mk("gatekeeper C", true), mk("worker W", false, devKey("carol"))
	deact, unreg := mk("deactivated gatekeeper D", true, devKey("bob")), mk("unregistered worker U", false)
	alice := devKey("alice")

	// D is a gatekeeper by an identity grant, registered, then deactivated
	// by withdrawing the grant, before any key exists.
	grantD := registryapi.Grant{IdentityKey: deact.rt.IdentityKey()}
	c.admin(t, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: grantD, Allowed: true})
	c.register(t, deact, devKey("bob"))
	c.admin(t, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: grantD, Allowed: false})

	start := time.Now()
	c.register(t, a, alice)
	c.pump(t, []*keyNode{a}, "generation 1 recorded and held by A", func() bool {
		mi := c.masterInfo(t)
		return mi.Newest == 1 && holds(a.rt, 1) && len(a.rt.KeyStatus().MasterPublics) == 1
	})
	t.Logf("registration to master key: %v", time.Since(start))
	mi := c.masterInfo(t)
	if got := a.rt.KeyStatus().MasterPublics[0]; !bytes.Equal(got.PublicKey, mi.Publics[0].PublicKey) {
		t.Fatal("A's view of the master public differs from the chain's")
	}

	start = time.Now()
	c.register(t, b, alice)
	c.pump(t, []*keyNode{a, b}, "B holds generation 1", func() bool { return holds(b.rt, 1) })
	t.Logf("hand-over to a second gatekeeper: %v", time.Since(start))
	checkMasterMatches(t, c, b.rt, 1)

	c.admin(t, keysapi.MethodRotate, keysapi.Rotate{})
	c.pump(t, []*keyNode{a, b}, "both hold generations 1 and 2", func() bool {
		return c.masterInfo(t).Newest == 2 && holds(a.rt, 1, 2) && holds(b.rt, 1, 2)
	})
	checkMasterMatches(t, c, a.rt, 2)
	checkMasterMatches(t, c, b.rt, 2)

	// A worker in a cluster gets the cluster key and derives the contract
	// key the chain records.
	c.register(t, w, devKey("carol"))
	c.admin(t, keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "c1"})
	c.admin(t, keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "c1", Worker: w.rt.IdentityKey()})
	// Instantiating a contract is what asks for its key; its init
	// arguments are sealed to the cluster's key, so that comes first.
	c.pump(t, []*keyNode{a, b, w}, "c1's public key is recorded", func() bool {
		cl, err := c.cl.Cluster(testCtx(t, 10*time.Second), "c1")
		return err == nil && len(cl.Publics) > 0
	})
	up, err := c.cl.Upload(testCtx(t, time.Minute), devKey("alice"), []byte("not run: neither the chain nor the keys read code"), client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := c.cl.Instantiate(testCtx(t, time.Minute), devKey("alice"), up.CodeHash, client.InstantiateOptions{Cluster: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	contract := inst.Contract[:]
	var recorded []keysapi.ContractPublic
	c.pump(t, []*keyNode{a, b, w}, "the worker holds c1 and the contract key is recorded", func() bool {
		recorded = nil
		if err := c.cl.Query(testCtx(t, 10*time.Second), keysapi.QueryContract, codec.MustMarshal(keysapi.ContractQuery{Cluster: "c1", Contract: contract}), &recorded); err != nil {
			return false
		}
		return len(recorded) == 1 && len(w.rt.KeyStatus().Clusters) == 2
	})
	mine, err := w.rt.ContractPublicKey("c1", contract)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Generation != 2 || recorded[0].Generation != 2 || !bytes.Equal(mine.PublicKey, recorded[0].PublicKey) {
		t.Fatalf("worker derives generation %d %x…, chain records generation %d %x…", mine.Generation, mine.PublicKey[:8], recorded[0].Generation, recorded[0].PublicKey[:8])
	}
	if _, err := unreg.rt.ContractPublicKey("c1", contract); !errors.Is(err, ErrNoKey) {
		t.Fatalf("a node without the cluster key derived a contract key: %v", err)
	}

	// Kill A and B during the hand-over to C: they fold its registration
	// (the handouts are in their outboxes) and die before relaying; the
	// restarted runtimes complete the hand-over.
	for _, n := range []*keyNode{a, b} {
		if err := n.rt.Checkpoint(); err != nil {
			t.Fatal(err)
		}
	}
	regC := c.register(t, gc, alice)
	for _, n := range []*keyNode{a, b} {
		c.feed(t, n.rt, regC+1)
		before := n.rt.Outbox()
		if !slices.ContainsFunc(before.Messages, func(se mqSigned) bool { return se.Egress.Topic == keysapi.TopicMasterHandout }) {
			t.Fatalf("%s has no handout for C in its outbox", n.name)
		}
		c.openNode(t, n, logs) // the old runtime is abandoned, not closed
		if n.rt.Status().Height > regC {
			t.Fatalf("%s resumed after the registration: nothing to replay", n.name)
		}
		c.feed(t, n.rt, regC+1)
		if !bytes.Equal(codec.MustMarshal(n.rt.Outbox()), codec.MustMarshal(before)) {
			t.Fatalf("%s regenerated other egress after the restart", n.name)
		}
	}
	c.pump(t, []*keyNode{a, b, gc}, "C holds generations 1 and 2 after the restarts", func() bool { return holds(gc.rt, 1, 2) })

	// Kill the designated gatekeeper during a rotation, after it generated
	// and saved generation 3 but before its public key left: the restart
	// publishes the same key, from the keystore.
	rot := c.admin(t, keysapi.MethodRotate, keysapi.Rotate{})
	gks := []*keyNode{a, b, gc}
	designated := gks[slices.IndexFunc(gks, func(n *keyNode) bool {
		return bytes.Equal(n.rt.IdentityKey(), keysapi.Designated([]ed25519.PublicKey{a.rt.IdentityKey(), b.rt.IdentityKey(), gc.rt.IdentityKey()}, rot, rot+1))
	})]
	c.feed(t, designated.rt, rot+1)
	first := masterPublicIn(designated.rt, 3)
	if first == nil {
		t.Fatal("the designated gatekeeper did not generate generation 3")
	}
	c.openNode(t, designated, logs)
	c.feed(t, designated.rt, rot+1)
	if again := masterPublicIn(designated.rt, 3); !bytes.Equal(again, first) {
		t.Fatal("after the restart the designated gatekeeper published another generation 3")
	}
	c.pump(t, append(gks, w), "all gatekeepers hold 1..3 and the worker c1 generation 3", func() bool {
		return holds(a.rt, 1, 2, 3) && holds(b.rt, 1, 2, 3) && holds(gc.rt, 1, 2, 3) && len(w.rt.KeyStatus().Clusters) == 3
	})
	for _, n := range gks {
		checkMasterMatches(t, c, n.rt, 3)
	}

	// Nothing was ever sealed to D or U, master keys went to gatekeepers
	// only and cluster keys to W only.
	for _, n := range []*keyNode{deact, unreg} {
		var h keysapi.Handouts
		if err := c.cl.Query(testCtx(t, 10*time.Second), keysapi.QueryHandouts, []byte(n.rt.IdentityKey()), &h); err != nil {
			t.Fatal(err)
		}
		if h.Master.Count != 0 || h.Cluster.Count != 0 {
			t.Fatalf("the chain carried keys to %s: %+v", n.name, h)
		}
	}
	allowed := map[string]string{
		string(a.rt.IdentityKey()): keysapi.TopicMasterHandout, string(b.rt.IdentityKey()): keysapi.TopicMasterHandout,
		string(gc.rt.IdentityKey()): keysapi.TopicMasterHandout, string(w.rt.IdentityKey()): keysapi.TopicClusterHandout,
	}
	var blocks [][]byte
	for h := int64(1); h < c.tip(); h++ {
		d := c.digest(t, h)
		blocks = append(blocks, codec.MustMarshal(d))
		for _, m := range d.Messages {
			if m.Topic != "mq.egress" {
				continue
			}
			var se mqSigned
			if codec.Unmarshal(m.Payload, &se) != nil || (se.Egress.Topic != keysapi.TopicMasterHandout && se.Egress.Topic != keysapi.TopicClusterHandout) {
				continue
			}
			var ho keysapi.Handout
			if err := codec.Unmarshal(se.Egress.Payload, &ho); err != nil {
				t.Fatal(err)
			}
			if allowed[string(ho.Recipient)] != se.Egress.Topic {
				t.Fatalf("block %d carries a %s to %x", h, se.Egress.Topic, []byte(ho.Recipient))
			}
		}
	}

	// Restarts replayed the same egress: no runtime saw the chain confirm
	// bytes other than its own, nor refused anything.
	for _, l := range bytes.Split(logs.Bytes(), []byte("\n")) {
		if bytes.Contains(l, []byte("level=WARN")) || bytes.Contains(l, []byte("level=ERROR")) {
			t.Errorf("unexpected log line: %s", l)
		}
	}
	// The secrets appear nowhere outside the enclaves' memory and the
	// sealed keystores.
	var secrets [][]byte
	for _, n := range []*keyNode{a, b, gc, w} {
		secrets = append(secrets, heldMasters(n.rt)...)
	}
	if len(secrets) < 3*3+3 {
		t.Fatalf("only %d secrets held", len(secrets))
	}
	var places [][]byte
	places = append(places, blocks...)
	places = append(places, logs.Bytes())
	for _, n := range []*keyNode{a, b, gc, w} {
		places = append(places, codec.MustMarshal(n.rt.Outbox()))
		st, err := n.rt.State()
		if err != nil {
			t.Fatal(err)
		}
		places = append(places, codec.MustMarshal(st))
		if err := n.rt.Close(); err != nil {
			t.Fatal(err)
		}
		places = append(places, homeFiles(t, n)...)
	}
	for _, s := range secrets {
		for i, p := range places {
			if bytes.Contains(p, s) || bytes.Contains(p, []byte(hex.EncodeToString(s))) {
				t.Fatalf("a secret appears in place %d", i)
			}
		}
	}
}

// homeFiles are the bytes of every file of a node's home, and the
// unsealed plaintext of its checkpoints.
func homeFiles(t *testing.T, n *keyNode) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(n.home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, b)
		if filepath.Dir(path) == filepath.Join(n.home, CheckpointsDir) {
			plain, err := n.platform.Unseal(checkpointLabel, b)
			if err != nil {
				return err
			}
			out = append(out, plain)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// masterPublicIn is the payload of rt's pending master_public for g.
func masterPublicIn(rt *Runtime, g uint32) []byte {
	for _, se := range rt.Outbox().Messages {
		var mp keysapi.MasterPublic
		if se.Egress.Topic == keysapi.TopicMasterPublic && codec.Unmarshal(se.Egress.Payload, &mp) == nil && mp.Generation == g {
			return se.Egress.Payload
		}
	}
	return nil
}

// checkMasterMatches: the generation rt holds derives the chain's public.
func checkMasterMatches(t *testing.T, c *testChain, rt *Runtime, g uint32) {
	t.Helper()
	mi := c.masterInfo(t)
	rt.mu.Lock()
	m, ok := rt.ks.Master(g)
	rt.mu.Unlock()
	if !ok || int(g) > len(mi.Publics) {
		t.Fatalf("generation %d: held %v, chain has %d", g, ok, len(mi.Publics))
	}
	pub, err := keys.MasterPublicKey(c.doc.ChainID, m)
	if err != nil || !bytes.Equal(pub, mi.Publics[g-1].PublicKey) {
		t.Fatalf("generation %d does not derive the chain's public key (%v)", g, err)
	}
}

type mqSigned = mq.SignedEgress

// TestSilentGatekeeperPassedOverOnChain: on a fresh chain two gatekeepers
// register; the one designated first never runs. The other generates
// generation 1 once its turn comes (not before), the chain records it;
// then the silent one starts, replays, generates in its old turn, is
// refused by the chain, and takes the recorded key by hand-over.
func TestSilentGatekeeperPassedOverOnChain(t *testing.T) {
	c := ownChain(t)
	logs := &lockedBuffer{}
	simDir := t.TempDir()
	mk := func(name string) *keyNode {
		n := &keyNode{name: name, home: t.TempDir(), platform: newSim(t, simDir, 1), gatekeeper: true}
		c.openNode(t, n, logs)
		t.Cleanup(func() { _ = n.rt.Close() })
		return n
	}
	x, y := mk("gatekeeper X"), mk("gatekeeper Y")
	if !bytes.Equal(keysapi.Designated([]ed25519.PublicKey{x.rt.IdentityKey(), y.rt.IdentityKey()}, 0, 0), x.rt.IdentityKey()) {
		x, y = y, x
	}
	x.name, y.name = "silent first gatekeeper", "second gatekeeper"
	c.register(t, x, devKey("alice"))
	c.register(t, y, devKey("alice"))

	// Through the first turn the second gatekeeper waits.
	c.pump(t, []*keyNode{y}, "the first turn over", func() bool { return y.rt.Status().Height >= keysapi.DesignationTurn-1 })
	for _, se := range y.rt.Outbox().Messages {
		if se.Egress.Topic == keysapi.TopicMasterPublic {
			t.Fatalf("the second gatekeeper generated by block %d, inside the first one's turn", y.rt.Status().Height)
		}
	}
	if c.masterInfo(t).Newest != 0 {
		t.Fatal("a master key was recorded though its designated gatekeeper never ran")
	}
	c.pump(t, []*keyNode{y}, "generation 1 recorded", func() bool { return c.masterInfo(t).Newest == 1 && holds(y.rt, 1) })
	checkMasterMatches(t, c, y.rt, 1) // the recorded key is the second gatekeeper's

	c.pump(t, []*keyNode{x, y}, "the first gatekeeper holds the recorded generation 1", func() bool { return holds(x.rt, 1) })
	checkMasterMatches(t, c, x.rt, 1)
	if !bytes.Contains(logs.Bytes(), []byte("the chain recorded another master key for a generation we generated")) {
		t.Fatal("the first gatekeeper never generated its own key in its old turn: the race was not exercised")
	}
}
