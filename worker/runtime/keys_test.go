package runtime

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/lightclient"
	"github.com/phala-go/phala/worker/nodekey"
)

// These tests fold hand-made verified blocks through key management: what
// an enclave does if the validators lie is visible only here, since a real
// chain refuses what the enclave must refuse too.

const foldChain = "fold-test"

// foldNode is a node of the fold tests: its keys and operator.
type foldNode struct {
	id  ed25519.PrivateKey
	enc hpke.PrivateKey
	op  address.Address
}

func newFoldNode(t testing.TB, seed byte) foldNode {
	t.Helper()
	enc, err := nodekey.KEM().DeriveKeyPair(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return foldNode{id: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)), enc: enc, op: address.Module("op")}
}

func (n foldNode) pub() ed25519.PublicKey { return n.id.Public().(ed25519.PublicKey) }

// blockHash and blockTime are the fold tests' block ids.
func blockHash(h int64) []byte {
	s := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h)))
	return s[:]
}

func blk(h int64, msgs ...mq.Message) lightclient.Final {
	return lightclient.Final{Height: h, Hash: blockHash(h), Time: time.Unix(1_700_000_000+h, 0).UTC(), Messages: msgs}
}

// simQuote is a sim quote of n's keys anchored at block anchor.
func (n foldNode) simQuote(anchor int64) []byte {
	rd := identity.Binding{ChainID: foldChain, AnchorHash: blockHash(anchor), IdentityKey: n.pub(), EncryptionKey: n.enc.PublicKey().Bytes(), Operator: n.op}.ReportData()
	return attest.SignSimQuote([32]byte{1}, rd)
}

func (n foldNode) event(kind string, role registryapi.Role, active bool, quote []byte) mq.Message {
	ev := registryapi.NodeEvent{Kind: kind, Quote: quote, Node: registryapi.Node{Role: role, IdentityKey: n.pub(), EncryptionKey: n.enc.PublicKey().Bytes(), Operator: n.op, Active: active}}
	return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
}

// keysFolder is a folder with a keystore for node self.
func keysFolder(t *testing.T, self foldNode, role registryapi.Role) (*folder, *State) {
	t.Helper()
	st := &State{Version: StateVersion, Identity: self.pub(), Role: role, Light: lightclient.State{ChainID: foldChain}, Outbox: Outbox{NextSeq: 1}}
	st.Registry.Policy.AllowSim = true
	ks, err := openKeystore(newSim(t, t.TempDir(), 1), filepath.Join(t.TempDir(), KeystoreFile), foldChain, self.pub())
	if err != nil {
		t.Fatal(err)
	}
	return &folder{st: st, keys: signer{self.id}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), ks: ks, enc: self.enc}, st
}

// sent returns the payloads of the outbox on topic, and confirms them.
func sent(st *State, topic string) [][]byte {
	var out [][]byte
	for _, se := range st.Outbox.Pending {
		if se.Egress.Topic == topic {
			out = append(out, se.Egress.Payload)
		}
	}
	return out
}

func egressOf(st *State, topic string) []mq.Message {
	var out []mq.Message
	for _, se := range st.Outbox.Pending {
		if se.Egress.Topic == topic {
			out = append(out, egressMsg(se))
		}
	}
	return out
}

// genesisGatekeeper folds self's registration and the republication of
// the generation-1 public key it sends: blocks 2 and 3.
func genesisGatekeeper(t *testing.T, f *folder, st *State, self foldNode) {
	t.Helper()
	f.block(blk(2, self.event("registered", registryapi.RoleGatekeeper, true, nil)))
	pubs := egressOf(st, keysapi.TopicMasterPublic)
	if len(pubs) != 1 || !st.Keys.holds(1) {
		t.Fatalf("the only gatekeeper did not generate generation 1: %d publics, held %v", len(pubs), st.Keys.Held)
	}
	f.block(blk(3, pubs...))
	if st.Keys.newestMaster() != 1 {
		t.Fatal("generation 1 not recorded")
	}
}

// openMaster opens a master handout with n's key.
func openMaster(t *testing.T, n foldNode, payload []byte) []keysapi.GenerationKey {
	t.Helper()
	var h keysapi.Handout
	if err := codec.Unmarshal(payload, &h); err != nil {
		t.Fatal(err)
	}
	plain, err := envelope.Open(foldChain, envelope.MasterKeyHandout, n.enc, h.Envelope, n.pub())
	if err != nil {
		t.Fatal(err)
	}
	var gens []keysapi.GenerationKey
	if err := codec.Unmarshal(plain, &gens); err != nil {
		t.Fatal(err)
	}
	return gens
}

func TestHandOverOnlyToVerifiedActiveGatekeepers(t *testing.T) {
	self, x := newFoldNode(t, 1), newFoldNode(t, 2)
	other := newFoldNode(t, 3)
	tests := []struct {
		name   string
		policy func(*attest.Policy)
		msgs   []mq.Message
		want   bool
	}{
		{"verified gatekeeper gets the master key", nil, []mq.Message{x.event("registered", registryapi.RoleGatekeeper, true, x.simQuote(3))}, true},
		{"quote binding other keys", nil, []mq.Message{x.event("registered", registryapi.RoleGatekeeper, true, other.simQuote(3))}, false},
		{"quote anchored at an unknown block", nil, []mq.Message{x.event("registered", registryapi.RoleGatekeeper, true, x.simQuote(99))}, false},
		{"sim quote the policy refuses", func(p *attest.Policy) { p.AllowSim = false }, []mq.Message{x.event("registered", registryapi.RoleGatekeeper, true, x.simQuote(3))}, false},
		{"sim measurement not in the policy", func(p *attest.Policy) { p.Sim = []attest.Hex{bytes.Repeat([]byte{9}, 32)} }, []mq.Message{x.event("registered", registryapi.RoleGatekeeper, true, x.simQuote(3))}, false},
		{"garbage quote", nil, []mq.Message{x.event("registered", registryapi.RoleGatekeeper, true, []byte("not a quote"))}, false},
		{"deactivated in the same block", nil, []mq.Message{
			x.event("registered", registryapi.RoleGatekeeper, true, x.simQuote(3)),
			x.event("deactivated", registryapi.RoleGatekeeper, false, nil),
		}, false},
		{"a worker gets no master key", nil, []mq.Message{x.event("registered", registryapi.RoleWorker, true, x.simQuote(3))}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, st := keysFolder(t, self, registryapi.RoleGatekeeper)
			genesisGatekeeper(t, f, st, self)
			if tc.policy != nil {
				tc.policy(&st.Registry.Policy)
			}
			f.block(blk(4, tc.msgs...))
			outs := sent(st, keysapi.TopicMasterHandout)
			if got := len(outs) == 1; got != tc.want {
				t.Fatalf("handouts %d, want one: %v", len(outs), tc.want)
			}
			if !tc.want {
				// Later blocks (periodic retries) send nothing either.
				for h := int64(5); h <= 2*retryEvery; h++ {
					f.block(blk(h))
				}
				if n := len(sent(st, keysapi.TopicMasterHandout)); n != 0 {
					t.Fatalf("%d handouts later", n)
				}
				return
			}
			gens := openMaster(t, x, outs[0])
			if len(gens) != 1 || gens[0].Generation != 1 {
				t.Fatalf("handed %+v", gens)
			}
			pub, _ := masterPublicKey(foldChain, derive.MasterKey(gens[0].Secret))
			if want, _ := st.Keys.masterPublic(1); !bytes.Equal(pub, want) {
				t.Fatal("the handed key does not derive the recorded public key")
			}
			// Once per target and generation.
			for h := int64(5); h <= 2*retryEvery; h++ {
				f.block(blk(h))
			}
			if n := len(sent(st, keysapi.TopicMasterHandout)); n != 1 {
				t.Fatalf("%d handouts after more blocks", n)
			}
		})
	}
}

// TestReceivingGatekeeper: a second gatekeeper keeps a handout that
// arrives before the public key it must match, opens it once recorded,
// refuses one that does not match, and never generates itself.
func TestReceivingGatekeeper(t *testing.T) {
	a, b := newFoldNode(t, 1), newFoldNode(t, 2)
	fa, sa := keysFolder(t, a, registryapi.RoleGatekeeper)
	fb, sb := keysFolder(t, b, registryapi.RoleGatekeeper)
	both := func(fin lightclient.Final) { fa.block(fin); fb.block(fin) }

	both(blk(1))
	both(blk(2, a.event("registered", registryapi.RoleGatekeeper, true, a.simQuote(1)), b.event("registered", registryapi.RoleGatekeeper, true, b.simQuote(1))))
	designatedIsA := bytes.Equal(keysapi.Designated([]ed25519.PublicKey{a.pub(), b.pub()}, 0, 2), a.pub())
	recv, sg, sr := fb, sa, sb
	if !designatedIsA {
		recv, sg, sr = fa, sb, sa
	}
	if len(sent(sr, keysapi.TopicMasterPublic)) != 0 || len(sent(sg, keysapi.TopicMasterPublic)) != 1 {
		t.Fatal("not exactly the designated gatekeeper generated")
	}
	handouts, publics := egressOf(sg, keysapi.TopicMasterHandout), egressOf(sg, keysapi.TopicMasterPublic)
	if len(handouts) != 1 {
		t.Fatalf("%d handouts from the generator", len(handouts))
	}
	// The handout comes first, the public key after.
	both(blk(3, handouts...))
	if len(sr.Keys.Pending) != 1 || sr.Keys.holds(1) {
		t.Fatalf("pending %d, held %v", len(sr.Keys.Pending), sr.Keys.Held)
	}
	both(blk(4, publics...))
	if len(sr.Keys.Pending) != 0 || !sr.Keys.holds(1) {
		t.Fatalf("after the public: pending %d, held %v", len(sr.Keys.Pending), sr.Keys.Held)
	}
	if !recv.masterMatches(1) {
		t.Fatal("the received key does not match")
	}
	// The receiver does not hand the key back to its sender.
	for h := int64(5); h <= retryEvery+1; h++ {
		both(blk(h))
	}
	if n := len(sent(sr, keysapi.TopicMasterHandout)); n != 0 {
		t.Fatalf("the receiver sent %d handouts back", n)
	}
}

// TestSilentDesignatedGatekeeperIsReplaced: when the designated
// gatekeeper never publishes (it is down), the next one in key order
// generates once the first turn is over. When the first comes back and
// replays the same blocks it generates too, during its old turn; the chain
// records the public key that arrived first, so it drops its own secret
// and takes the recorded one by hand-over.
func TestSilentDesignatedGatekeeperIsReplaced(t *testing.T) {
	a, b := newFoldNode(t, 1), newFoldNode(t, 2)
	first, second := a, b
	if !bytes.Equal(keysapi.Designated([]ed25519.PublicKey{a.pub(), b.pub()}, 0, 2), a.pub()) {
		first, second = b, a
	}
	registered := blk(2, a.event("registered", registryapi.RoleGatekeeper, true, a.simQuote(1)), b.event("registered", registryapi.RoleGatekeeper, true, b.simQuote(1)))

	// Only the second runs.
	f2, s2 := keysFolder(t, second, registryapi.RoleGatekeeper)
	var chain []lightclient.Final // what the chain carried, for the replay below
	add := func(fin lightclient.Final) { chain = append(chain, fin); f2.block(fin) }
	add(blk(1))
	add(registered)
	h := int64(3)
	for ; h < keysapi.DesignationTurn; h++ {
		add(blk(h))
		if len(sent(s2, keysapi.TopicMasterPublic)) != 0 {
			t.Fatalf("the second gatekeeper generated at block %d, in the first one's turn", h)
		}
	}
	for ; h < keysapi.DesignationTurn+retryEvery && len(sent(s2, keysapi.TopicMasterPublic)) == 0; h++ {
		add(blk(h))
	}
	publics := egressOf(s2, keysapi.TopicMasterPublic)
	if len(publics) != 1 || !s2.Keys.holds(1) {
		t.Fatalf("by block %d the second gatekeeper sent %d publics, holds %v", h, len(publics), s2.Keys.Held)
	}
	add(blk(h, publics...)) // recorded
	h++
	if !f2.masterMatches(1) {
		t.Fatal("the second gatekeeper's key does not match what the chain recorded")
	}

	// The first comes back and replays: it generates in its old turn (its
	// own publication will reach the chain too late and be refused).
	f1, s1 := keysFolder(t, first, registryapi.RoleGatekeeper)
	for _, fin := range chain[:3] {
		f1.block(fin)
	}
	if len(sent(s1, keysapi.TopicMasterPublic)) != 1 || !s1.Keys.holds(1) {
		t.Fatal("the replaying first gatekeeper did not generate in its turn")
	}
	for _, fin := range chain[3:] {
		f1.block(fin)
	}
	if s1.Keys.holds(1) {
		t.Fatal("the first gatekeeper still holds its own generation 1 after the chain recorded another")
	}
	// The second hands the recorded key over; the first takes it.
	for end := h + retryEvery; h <= end && len(sent(s2, keysapi.TopicMasterHandout)) == 0; h++ {
		fin := blk(h)
		f1.block(fin)
		f2.block(fin)
	}
	handouts := egressOf(s2, keysapi.TopicMasterHandout)
	if len(handouts) != 1 {
		t.Fatalf("%d handouts from the second gatekeeper", len(handouts))
	}
	f1.block(blk(h, handouts...))
	if !s1.Keys.holds(1) || !f1.masterMatches(1) {
		t.Fatalf("after the hand-over the first gatekeeper holds %v, matching %v", s1.Keys.Held, f1.masterMatches(1))
	}
}

func TestWorkerReceivesClusterKey(t *testing.T) {
	g, w := newFoldNode(t, 1), newFoldNode(t, 5)
	fg, sg := keysFolder(t, g, registryapi.RoleGatekeeper)
	fw, sw := keysFolder(t, w, registryapi.RoleWorker)
	both := func(fin lightclient.Final) { fg.block(fin); fw.block(fin) }
	both(blk(2, g.event("registered", registryapi.RoleGatekeeper, true, nil), w.event("registered", registryapi.RoleWorker, true, nil)))
	both(blk(3, egressOf(sg, keysapi.TopicMasterPublic)...))
	created := mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c1"})}
	assigned := mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c1", Worker: w.pub(), EncryptionKey: w.enc.PublicKey().Bytes()})}
	contract := mq.Message{Topic: keysapi.TopicContract, Payload: codec.MustMarshal(keysapi.ContractEvent{Cluster: "c1", Contract: []byte("k")})}
	both(blk(4, created, assigned, contract))
	handouts, publics := egressOf(sg, keysapi.TopicClusterHandout), egressOf(sg, keysapi.TopicClusterPublic)
	contracts := sent(sg, keysapi.TopicContractPublic)
	if len(handouts) != 1 || len(publics) != 1 || len(contracts) != 1 {
		t.Fatalf("%d handouts, %d cluster publics, %d contract publics", len(handouts), len(publics), len(contracts))
	}
	both(blk(5, handouts...))
	if len(sw.Keys.Pending) != 1 {
		t.Fatal("the handout did not wait for the cluster's public key")
	}
	both(blk(6, publics...))
	if !sw.Keys.holdsCluster("c1", 1) || len(sw.Keys.Pending) != 0 {
		t.Fatalf("worker holds %+v, pending %d", sw.Keys.HeldClusters, len(sw.Keys.Pending))
	}
	ck, _ := fw.ks.cluster("c1", 1)
	pub, err := contractPublicKey(foldChain, ck, []byte("k"))
	var cp keysapi.ContractPublic
	if err != nil || codec.Unmarshal(contracts[0], &cp) != nil || !bytes.Equal(cp.PublicKey, pub) || cp.Generation != 1 {
		t.Fatalf("the worker derives another contract key (%v)", err)
	}
}

func TestKeystoreSealedAndBound(t *testing.T) {
	dir, simDir := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, KeystoreFile)
	self := newFoldNode(t, 1)
	ks, err := openKeystore(newSim(t, simDir, 1), path, foldChain, self.pub())
	if err != nil {
		t.Fatal(err)
	}
	secret := bytes.Repeat([]byte{0xab}, 32)
	if err := ks.putMasters([]keysapi.GenerationKey{{Generation: 2, Secret: secret}, {Generation: 1, Secret: secret}}); err != nil {
		t.Fatal(err)
	}
	if err := ks.putCluster(keysapi.ClusterSecret{Cluster: "c", Generation: 1, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, secret) {
		t.Fatal("the keystore file holds a secret in the clear")
	}
	tests := []struct {
		name    string
		enclave byte
		chain   string
		id      ed25519.PublicKey
		mutate  func([]byte) []byte
		ok      bool
	}{
		{"same enclave reopens", 1, foldChain, self.pub(), nil, true},
		{"another enclave", 2, foldChain, self.pub(), nil, false},
		{"another chain", 1, "other", self.pub(), nil, false},
		{"another identity", 1, foldChain, newFoldNode(t, 9).pub(), nil, false},
		{"tampered", 1, foldChain, self.pub(), func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), KeystoreFile)
			b := bytes.Clone(raw)
			if tc.mutate != nil {
				b = tc.mutate(b)
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := openKeystore(newSim(t, simDir, tc.enclave), p, tc.chain, tc.id)
			if !tc.ok {
				if !errors.Is(err, ErrKeystore) {
					t.Fatalf("want ErrKeystore, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m1, ok1 := got.master(1)
			_, ok3 := got.master(3)
			c, okc := got.cluster("c", 1)
			if !ok1 || ok3 || !okc || !bytes.Equal(m1[:], secret) || !bytes.Equal(c[:], secret) {
				t.Fatal("keystore contents differ after reopening")
			}
		})
	}
}

// TestReplayReusesKeystore: a gatekeeper folding the same blocks again
// (restart from an old checkpoint, or from genesis) publishes the same
// generation and the same handout bytes, from its keystore.
func TestReplayReusesKeystore(t *testing.T) {
	self, x := newFoldNode(t, 1), newFoldNode(t, 2)
	f, st := keysFolder(t, self, registryapi.RoleGatekeeper)
	blocks := []lightclient.Final{blk(2, self.event("registered", registryapi.RoleGatekeeper, true, nil))}
	run := func(f *folder) {
		for _, b := range blocks {
			f.block(b)
		}
	}
	run(f)
	blocks = append(blocks, blk(3, egressOf(st, keysapi.TopicMasterPublic)...), blk(4, x.event("registered", registryapi.RoleGatekeeper, true, x.simQuote(3))))
	f.block(blocks[1])
	f.block(blocks[2])
	first := codec.MustMarshal(st.Outbox)

	replay := &State{Version: StateVersion, Identity: self.pub(), Role: registryapi.RoleGatekeeper, Light: lightclient.State{ChainID: foldChain}, Outbox: Outbox{NextSeq: 1}}
	replay.Registry.Policy.AllowSim = true
	rf := &folder{st: replay, keys: f.keys, log: f.log, ks: f.ks, enc: f.enc}
	run(rf)
	if !bytes.Equal(codec.MustMarshal(replay.Outbox), first) || !bytes.Equal(replay.Hash(), st.Hash()) {
		t.Fatal("a replay produced other egress or another state")
	}
}

// FuzzKeysEgress folds arbitrary payloads on the keys topics, as sent by
// an active gatekeeper, into a gatekeeper and a worker holding keys: a
// payload that does not decode or open is skipped, never a crash.
func FuzzKeysEgress(f *testing.F) {
	self, other := newFoldNode(f, 1), newFoldNode(f, 2)
	f.Add(uint8(0), codec.MustMarshal(keysapi.MasterPublic{Generation: 2, PublicKey: []byte{1}}))
	f.Add(uint8(1), codec.MustMarshal(keysapi.Handout{Recipient: self.pub(), Envelope: []byte{0x84, 1, 1, 0x40, 0x40}}))
	f.Add(uint8(2), codec.MustMarshal(keysapi.ClusterPublic{Cluster: "c", Generation: 1, PublicKey: []byte{1}}))
	f.Add(uint8(3), codec.MustMarshal(keysapi.Handout{Recipient: self.pub(), Cluster: "c", Envelope: []byte{1}}))
	f.Add(uint8(4), codec.MustMarshal(keysapi.ContractPublic{Cluster: "c", Contract: []byte{1}, Generation: 1}))
	topics := []string{keysapi.TopicMasterPublic, keysapi.TopicMasterHandout, keysapi.TopicClusterPublic, keysapi.TopicClusterHandout, keysapi.TopicContractPublic}
	f.Fuzz(func(t *testing.T, topic uint8, payload []byte) {
		for _, role := range []registryapi.Role{registryapi.RoleGatekeeper, registryapi.RoleWorker} {
			fo, st := keysFolder(t, self, role)
			fo.block(blk(2, self.event("registered", role, true, nil), other.event("registered", registryapi.RoleGatekeeper, true, nil)))
			se := mq.SignEgress(foldChain, other.id, mq.Egress{Version: mq.EgressVersion, Sender: other.pub(), Seq: 1, Topic: topics[int(topic)%len(topics)], Payload: payload})
			fo.block(blk(3, egressMsg(se), egressMsg(se)))
			fo.block(blk(retryEvery))
			if _, err := st.clone(); err != nil {
				t.Fatalf("state no longer round-trips: %v", err)
			}
		}
	})
}
