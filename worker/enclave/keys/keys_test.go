package keys_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
	et "github.com/phala-go/phala/worker/enclave/enclavetest"
	"github.com/phala-go/phala/worker/enclave/keys"
	"github.com/phala-go/phala/worker/lightclient"
)

// These tests fold hand-made verified blocks through key management: what
// an enclave does if the validators lie is visible only here, since a real
// chain refuses what the enclave must refuse too.

func holds(n *et.Node, gens ...uint32) bool {
	got := n.KeyMod.Held()
	if len(got) != len(gens) {
		return false
	}
	for i := range got {
		if got[i] != gens[i] {
			return false
		}
	}
	return true
}

func newestMaster(n *et.Node) uint32 {
	mp := n.KeyMod.MasterPublics()
	if len(mp) == 0 {
		return 0
	}
	return mp[len(mp)-1].Generation
}

func matches(n *et.Node, g uint32) bool { return n.KeyMod.MasterMatches(et.ChainID, n.Keystore, g) }

// genesisGatekeeper folds self's registration and the chain's record of
// the generation-1 public key it sends: blocks 2 and 3.
func genesisGatekeeper(t *testing.T, n *et.Node) {
	t.Helper()
	n.Fold(et.Block(2, n.Keys.Event("registered", registryapi.RoleGatekeeper, true, nil)))
	if pubs := n.Sent(keysapi.TopicMasterPublic); len(pubs) != 1 || !holds(n, 1) {
		t.Fatalf("the only gatekeeper did not generate generation 1: %d publics, held %v", len(pubs), n.KeyMod.Held())
	}
	n.Fold(et.Block(3, n.Recorded(keysapi.TopicMasterPublic)...))
	if newestMaster(n) != 1 {
		t.Fatal("generation 1 not recorded")
	}
}

// openMaster opens a master handout with k's key.
func openMaster(t *testing.T, k et.Keys, payload []byte) []keysapi.GenerationKey {
	t.Helper()
	var h keysapi.Handout
	if err := codec.Unmarshal(payload, &h); err != nil {
		t.Fatal(err)
	}
	plain, err := envelope.Open(et.ChainID, envelope.MasterKeyHandout, k.Enc, h.Envelope, k.Pub())
	if err != nil {
		t.Fatal(err)
	}
	var gens []keysapi.GenerationKey
	if err := codec.Unmarshal(plain, &gens); err != nil {
		t.Fatal(err)
	}
	return gens
}

func policyMsg(p attest.Policy) mq.Message {
	return mq.Message{Topic: registryapi.TopicPolicy, Payload: codec.MustMarshal(registryapi.PolicyEvent{Policy: p})}
}

func TestHandOverOnlyToVerifiedActiveGatekeepers(t *testing.T) {
	self, x := et.NewKeys(t, 1), et.NewKeys(t, 2)
	other := et.NewKeys(t, 3)
	tests := []struct {
		name   string
		policy func(*attest.Policy)
		msgs   []mq.Message
		want   bool
	}{
		{"verified gatekeeper gets the master key", nil, []mq.Message{x.Event("registered", registryapi.RoleGatekeeper, true, x.SimQuote(3))}, true},
		{"quote binding other keys", nil, []mq.Message{x.Event("registered", registryapi.RoleGatekeeper, true, other.SimQuote(3))}, false},
		{"quote anchored at an unknown block", nil, []mq.Message{x.Event("registered", registryapi.RoleGatekeeper, true, x.SimQuote(99))}, false},
		{"sim quote the policy refuses", func(p *attest.Policy) { p.AllowSim = false }, []mq.Message{x.Event("registered", registryapi.RoleGatekeeper, true, x.SimQuote(3))}, false},
		{"sim measurement not in the policy", func(p *attest.Policy) { p.Sim = []attest.Hex{bytes.Repeat([]byte{9}, 32)} }, []mq.Message{x.Event("registered", registryapi.RoleGatekeeper, true, x.SimQuote(3))}, false},
		{"garbage quote", nil, []mq.Message{x.Event("registered", registryapi.RoleGatekeeper, true, []byte("not a quote"))}, false},
		{"deactivated in the same block", nil, []mq.Message{
			x.Event("registered", registryapi.RoleGatekeeper, true, x.SimQuote(3)),
			x.Event("deactivated", registryapi.RoleGatekeeper, false, nil),
		}, false},
		{"a worker gets no master key", nil, []mq.Message{x.Event("registered", registryapi.RoleWorker, true, x.SimQuote(3))}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := et.New(t, self, registryapi.RoleGatekeeper, et.Options{})
			genesisGatekeeper(t, n)
			msgs := tc.msgs
			if tc.policy != nil {
				p := n.Registry.Policy()
				tc.policy(&p)
				msgs = append([]mq.Message{policyMsg(p)}, msgs...)
			}
			n.Fold(et.Block(4, msgs...))
			outs := n.Sent(keysapi.TopicMasterHandout)
			if got := len(outs) == 1; got != tc.want {
				t.Fatalf("handouts %d, want one: %v", len(outs), tc.want)
			}
			if !tc.want {
				// Later blocks (periodic retries) send nothing either.
				for h := int64(5); h <= 2*keys.RetryEvery; h++ {
					n.Fold(et.Block(h))
				}
				if k := len(n.Sent(keysapi.TopicMasterHandout)); k != 0 {
					t.Fatalf("%d handouts later", k)
				}
				return
			}
			gens := openMaster(t, x, outs[0])
			if len(gens) != 1 || gens[0].Generation != 1 {
				t.Fatalf("handed %+v", gens)
			}
			pub, _ := keys.MasterPublicKey(et.ChainID, derive.MasterKey(gens[0].Secret))
			if want := n.KeyMod.MasterPublics()[0].PublicKey; !bytes.Equal(pub, want) {
				t.Fatal("the handed key does not derive the recorded public key")
			}
			// Once per target and generation.
			for h := int64(5); h <= 2*keys.RetryEvery; h++ {
				n.Fold(et.Block(h))
			}
			if k := len(n.Sent(keysapi.TopicMasterHandout)); k != 1 {
				t.Fatalf("%d handouts after more blocks", k)
			}
		})
	}
}

// TestReceivingGatekeeper: a second gatekeeper keeps a handout that
// arrives before the public key it must match, opens it once recorded,
// refuses one that does not match, and never generates itself.
func TestReceivingGatekeeper(t *testing.T) {
	a, b := et.NewKeys(t, 1), et.NewKeys(t, 2)
	na := et.New(t, a, registryapi.RoleGatekeeper, et.Options{})
	nb := et.New(t, b, registryapi.RoleGatekeeper, et.Options{})
	both := func(fin lightclient.Final) { na.Fold(fin); nb.Fold(fin) }

	both(et.Block(1))
	both(et.Block(2, a.Event("registered", registryapi.RoleGatekeeper, true, a.SimQuote(1)), b.Event("registered", registryapi.RoleGatekeeper, true, b.SimQuote(1))))
	gen, recv := na, nb
	if !bytes.Equal(keysapi.Designated([]ed25519.PublicKey{a.Pub(), b.Pub()}, 0, 2), a.Pub()) {
		gen, recv = nb, na
	}
	if len(recv.Sent(keysapi.TopicMasterPublic)) != 0 || len(gen.Sent(keysapi.TopicMasterPublic)) != 1 {
		t.Fatal("not exactly the designated gatekeeper generated")
	}
	handouts, publics := gen.Republished(keysapi.TopicMasterHandout), gen.Recorded(keysapi.TopicMasterPublic)
	if len(handouts) != 1 {
		t.Fatalf("%d handouts from the generator", len(handouts))
	}
	// The handout comes first, the public key after.
	both(et.Block(3, handouts...))
	if recv.KeyMod.PendingHandouts() != 1 || holds(recv, 1) {
		t.Fatalf("pending %d, held %v", recv.KeyMod.PendingHandouts(), recv.KeyMod.Held())
	}
	both(et.Block(4, publics...))
	if recv.KeyMod.PendingHandouts() != 0 || !holds(recv, 1) {
		t.Fatalf("after the public: pending %d, held %v", recv.KeyMod.PendingHandouts(), recv.KeyMod.Held())
	}
	if !matches(recv, 1) {
		t.Fatal("the received key does not match")
	}
	// The receiver does not hand the key back to its sender.
	for h := int64(5); h <= keys.RetryEvery+1; h++ {
		both(et.Block(h))
	}
	if n := len(recv.Sent(keysapi.TopicMasterHandout)); n != 0 {
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
	a, b := et.NewKeys(t, 1), et.NewKeys(t, 2)
	first, second := a, b
	if !bytes.Equal(keysapi.Designated([]ed25519.PublicKey{a.Pub(), b.Pub()}, 0, 2), a.Pub()) {
		first, second = b, a
	}
	registered := et.Block(2, a.Event("registered", registryapi.RoleGatekeeper, true, a.SimQuote(1)), b.Event("registered", registryapi.RoleGatekeeper, true, b.SimQuote(1)))

	// Only the second runs.
	n2 := et.New(t, second, registryapi.RoleGatekeeper, et.Options{})
	var chain []lightclient.Final // what the chain carried, for the replay below
	add := func(fin lightclient.Final) { chain = append(chain, fin); n2.Fold(fin) }
	add(et.Block(1))
	add(registered)
	h := int64(3)
	for ; h < keysapi.DesignationTurn; h++ {
		add(et.Block(h))
		if len(n2.Sent(keysapi.TopicMasterPublic)) != 0 {
			t.Fatalf("the second gatekeeper generated at block %d, in the first one's turn", h)
		}
	}
	for ; h < keysapi.DesignationTurn+keys.RetryEvery && len(n2.Sent(keysapi.TopicMasterPublic)) == 0; h++ {
		add(et.Block(h))
	}
	publics := n2.Recorded(keysapi.TopicMasterPublic)
	if len(n2.Sent(keysapi.TopicMasterPublic)) != 1 || !holds(n2, 1) {
		t.Fatalf("by block %d the second gatekeeper sent %d publics, holds %v", h, len(publics), n2.KeyMod.Held())
	}
	add(et.Block(h, publics...)) // recorded
	h++
	if !matches(n2, 1) {
		t.Fatal("the second gatekeeper's key does not match what the chain recorded")
	}

	// The first comes back and replays: it generates in its old turn (its
	// own publication will reach the chain too late and be refused).
	n1 := et.New(t, first, registryapi.RoleGatekeeper, et.Options{})
	n1.Fold(chain[:3]...)
	if len(n1.Sent(keysapi.TopicMasterPublic)) != 1 || !holds(n1, 1) {
		t.Fatal("the replaying first gatekeeper did not generate in its turn")
	}
	n1.Fold(chain[3:]...)
	if holds(n1, 1) {
		t.Fatal("the first gatekeeper still holds its own generation 1 after the chain recorded another")
	}
	// The second hands the recorded key over; the first takes it.
	for end := h + keys.RetryEvery; h <= end && len(n2.Sent(keysapi.TopicMasterHandout)) == 0; h++ {
		fin := et.Block(h)
		n1.Fold(fin)
		n2.Fold(fin)
	}
	handouts := n2.Republished(keysapi.TopicMasterHandout)
	if len(handouts) != 1 {
		t.Fatalf("%d handouts from the second gatekeeper", len(handouts))
	}
	n1.Fold(et.Block(h, handouts...))
	if !holds(n1, 1) || !matches(n1, 1) {
		t.Fatalf("after the hand-over the first gatekeeper holds %v, matching %v", n1.KeyMod.Held(), matches(n1, 1))
	}
}

func TestWorkerReceivesClusterKey(t *testing.T) {
	g, w := et.NewKeys(t, 1), et.NewKeys(t, 5)
	ng := et.New(t, g, registryapi.RoleGatekeeper, et.Options{})
	nw := et.New(t, w, registryapi.RoleWorker, et.Options{})
	both := func(fin lightclient.Final) { ng.Fold(fin); nw.Fold(fin) }
	both(et.Block(2, g.Event("registered", registryapi.RoleGatekeeper, true, nil), w.Event("registered", registryapi.RoleWorker, true, nil)))
	both(et.Block(3, ng.Recorded(keysapi.TopicMasterPublic)...))
	created := mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c1"})}
	assigned := mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c1", Worker: w.Pub(), EncryptionKey: w.Enc.PublicKey().Bytes()})}
	contract := mq.Message{Topic: keysapi.TopicContract, Payload: codec.MustMarshal(keysapi.ContractEvent{Cluster: "c1", Contract: []byte("k")})}
	both(et.Block(4, created, assigned, contract))
	handouts, publics := ng.Republished(keysapi.TopicClusterHandout), ng.Recorded(keysapi.TopicClusterPublic)
	contracts := ng.Sent(keysapi.TopicContractPublic)
	if len(handouts) != 1 || len(ng.Sent(keysapi.TopicClusterPublic)) != 1 || len(contracts) != 1 {
		t.Fatalf("%d handouts, %d cluster publics, %d contract publics", len(handouts), len(publics), len(contracts))
	}
	both(et.Block(5, handouts...))
	if nw.KeyMod.PendingHandouts() != 1 {
		t.Fatal("the handout did not wait for the cluster's public key")
	}
	both(et.Block(6, publics...))
	if held := nw.KeyMod.HeldClusters(); len(held) != 1 || held[0].Cluster != "c1" || held[0].Generation != 1 || nw.KeyMod.PendingHandouts() != 0 {
		t.Fatalf("worker holds %+v, pending %d", held, nw.KeyMod.PendingHandouts())
	}
	ck, _ := nw.Keystore.Cluster("c1", 1)
	pub, err := keys.ContractPublicKey(et.ChainID, ck, []byte("k"))
	var cp keysapi.ContractPublic
	if err != nil || codec.Unmarshal(contracts[0], &cp) != nil || !bytes.Equal(cp.PublicKey, pub) || cp.Generation != 1 {
		t.Fatalf("the worker derives another contract key (%v)", err)
	}
}

// TestReplayReusesKeystore: a gatekeeper folding the same blocks again
// (restart from an old checkpoint, or from genesis) publishes the same
// generation and the same handout bytes, from its keystore.
func TestReplayReusesKeystore(t *testing.T) {
	self, x := et.NewKeys(t, 1), et.NewKeys(t, 2)
	n := et.New(t, self, registryapi.RoleGatekeeper, et.Options{})
	blocks := []lightclient.Final{et.Block(2, self.Event("registered", registryapi.RoleGatekeeper, true, nil))}
	n.Fold(blocks[0])
	blocks = append(blocks, et.Block(3, n.Recorded(keysapi.TopicMasterPublic)...), et.Block(4, x.Event("registered", registryapi.RoleGatekeeper, true, x.SimQuote(3))))
	n.Fold(blocks[1:]...)
	if len(n.Sent(keysapi.TopicMasterHandout)) != 1 {
		t.Fatal("no handout to replay")
	}
	replay := et.New(t, self, registryapi.RoleGatekeeper, et.Options{Keystore: n.Keystore})
	replay.Fold(blocks...)
	if !bytes.Equal(codec.MustMarshal(replay.Machine.Pending()), codec.MustMarshal(n.Machine.Pending())) || !bytes.Equal(replay.Hash(), n.Hash()) {
		t.Fatal("a replay produced other egress or another state")
	}
}

// FuzzKeysEgress folds arbitrary payloads on the keys topics, as sent by
// an active gatekeeper or published by the chain, into a gatekeeper and a
// worker: a payload that does not decode or open is skipped, never a
// crash.
func FuzzKeysEgress(f *testing.F) {
	self, other := et.NewKeys(f, 1), et.NewKeys(f, 2)
	f.Add(uint8(0), codec.MustMarshal(keysapi.MasterPublic{Generation: 2, PublicKey: []byte{1}}))
	f.Add(uint8(1), codec.MustMarshal(keysapi.Handout{Recipient: self.Pub(), Envelope: []byte{0x84, 1, 1, 0x40, 0x40}}))
	f.Add(uint8(2), codec.MustMarshal(keysapi.ClusterPublic{Cluster: "c", Generation: 1, PublicKey: []byte{1}}))
	f.Add(uint8(3), codec.MustMarshal(keysapi.Handout{Recipient: self.Pub(), Cluster: "c", Envelope: []byte{1}}))
	f.Add(uint8(4), codec.MustMarshal(keysapi.ContractPublic{Cluster: "c", Contract: []byte{1}, Generation: 1}))
	f.Add(uint8(5), codec.MustMarshal(keysapi.MasterRecorded{Generation: 1, PublicKey: []byte{1}, Sender: other.Pub()}))
	f.Add(uint8(6), codec.MustMarshal(keysapi.ClusterPublic{Cluster: "c", Generation: 1, PublicKey: []byte{1}}))
	egress := []string{keysapi.TopicMasterPublic, keysapi.TopicMasterHandout, keysapi.TopicClusterPublic, keysapi.TopicClusterHandout, keysapi.TopicContractPublic}
	ingress := []string{keysapi.TopicMasterRecorded, keysapi.TopicClusterRecorded}
	f.Fuzz(func(t *testing.T, topic uint8, payload []byte) {
		for _, role := range []registryapi.Role{registryapi.RoleGatekeeper, registryapi.RoleWorker} {
			n := et.New(t, self, role, et.Options{})
			n.Fold(et.Block(2, self.Event("registered", role, true, nil), other.Event("registered", registryapi.RoleGatekeeper, true, nil),
				mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c"})}))
			var msg mq.Message
			if i := int(topic) % (len(egress) + len(ingress)); i < len(egress) {
				se := mq.SignEgress(et.ChainID, other.ID, mq.Egress{Version: mq.EgressVersion, Sender: other.Pub(), Seq: 1, Topic: egress[i], Payload: payload})
				msg = et.EgressMsg(se)
			} else {
				msg = mq.Message{Topic: ingress[i-len(egress)], Payload: payload}
			}
			n.Fold(et.Block(3, msg, msg), et.Block(keys.RetryEvery))
			st := n.State()
			if _, err := codec.Marshal(st); err != nil {
				t.Fatalf("state no longer encodes: %v", err)
			}
		}
	})
}

// TestRefusedHandoutChangesNothing: a handout the chain's keys module
// refused changes nothing in the recipient, which would otherwise open and
// hold it: its state is that of a twin that never saw it. The sender's own
// outbox entry is confirmed all the same (its sequence number is used up).
// The same handout accepted later is taken.
func TestRefusedHandoutChangesNothing(t *testing.T) {
	a, b := et.NewKeys(t, 1), et.NewKeys(t, 2)
	gen := et.New(t, a, registryapi.RoleGatekeeper, et.Options{})
	recv := et.New(t, b, registryapi.RoleGatekeeper, et.Options{})
	twin := et.New(t, b, registryapi.RoleGatekeeper, et.Options{})
	if !bytes.Equal(keysapi.Designated([]ed25519.PublicKey{a.Pub(), b.Pub()}, 0, 2), a.Pub()) {
		gen, recv = et.New(t, b, registryapi.RoleGatekeeper, et.Options{}), et.New(t, a, registryapi.RoleGatekeeper, et.Options{})
		twin = et.New(t, a, registryapi.RoleGatekeeper, et.Options{})
	}
	all := func(fin lightclient.Final) { gen.Fold(fin); recv.Fold(fin) }
	registered := et.Block(2, a.Event("registered", registryapi.RoleGatekeeper, true, a.SimQuote(1)), b.Event("registered", registryapi.RoleGatekeeper, true, b.SimQuote(1)))
	all(et.Block(1))
	all(registered)
	twin.Fold(et.Block(1), registered)
	pending := gen.Machine.Pending()
	handout := pendingOn(t, pending, keysapi.TopicMasterHandout)
	publics := gen.Recorded(keysapi.TopicMasterPublic)
	all(et.Block(3, append(publics, et.RefusedMsg(handout))...))
	twin.Fold(et.Block(3, publics...))
	if recv.KeyMod.PendingHandouts() != 0 || holds(recv, 1) || !bytes.Equal(recv.KeyMod.MarshalState(), twin.KeyMod.MarshalState()) {
		t.Fatalf("a refused handout changed the recipient: pending %d, held %v", recv.KeyMod.PendingHandouts(), recv.KeyMod.Held())
	}
	for _, se := range gen.Machine.Pending() {
		if se.Egress.Seq <= handout.Egress.Seq {
			t.Fatalf("the sender's refused handout (seq %d) is still pending", handout.Egress.Seq)
		}
	}
	recv.Fold(et.Block(4, et.EgressMsg(handout)))
	if !holds(recv, 1) || !matches(recv, 1) {
		t.Fatalf("the same handout accepted was not taken: held %v", recv.KeyMod.Held())
	}
}

// pendingOn is the one message of the outbox on topic.
func pendingOn(t *testing.T, pending []mq.SignedEgress, topic string) mq.SignedEgress {
	t.Helper()
	var out []mq.SignedEgress
	for _, se := range pending {
		if se.Egress.Topic == topic {
			out = append(out, se)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d messages on %s in the outbox, want 1", len(out), topic)
	}
	return out[0]
}
