package enclave_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave"
	et "github.com/phala-go/phala/worker/enclave/enclavetest"
	"github.com/phala-go/phala/worker/enclave/keys"
	"github.com/phala-go/phala/worker/enclave/keystore"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
	"github.com/phala-go/phala/worker/lightclient"
)

// TestRouting: unknown topics are counted and ignored; a malformed payload
// is counted and skipped while the rest of the block still applies.
func TestRouting(t *testing.T) {
	other := bytes.Repeat([]byte{9}, 32)
	node := func(key []byte) mq.Message {
		ev := registryapi.NodeEvent{Kind: "registered", Node: registryapi.Node{Role: registryapi.RoleWorker, IdentityKey: key, EncryptionKey: []byte{1, 2}, Active: true}}
		return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
	}
	gatekeeper := func(key []byte) mq.Message {
		ev := registryapi.NodeEvent{Kind: "registered", Node: registryapi.Node{Role: registryapi.RoleGatekeeper, IdentityKey: key, EncryptionKey: []byte{1, 2}, Active: true}}
		return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
	}
	tests := []struct {
		name          string
		msgs          []mq.Message
		unknown, bad  uint64
		registryNodes int
	}{
		{"unknown topics are counted and ignored", []mq.Message{{Topic: "bank.nothing", Payload: []byte{1}}}, 1, 0, 0},
		{"malformed payloads are skipped, the rest still applies", []mq.Message{
			{Topic: registryapi.TopicNode, Payload: []byte{0xff, 0x00}},
			{Topic: registryapi.TopicPolicy, Payload: nil},
			{Topic: mq.TopicEgress, Payload: []byte("garbage")},
			node(other),
		}, 0, 3, 1},
		{"an egress payload its follower cannot decode is counted", []mq.Message{
			gatekeeper(other),
			et.EgressMsg(mq.SignedEgress{Egress: mq.Egress{Version: mq.EgressVersion, Sender: other, Seq: 1, Topic: keysapi.TopicMasterHandout, Payload: []byte{0xff}}}),
		}, 0, 1, 1},
		{"a republication without its outcome is counted", []mq.Message{
			{Topic: mq.TopicEgress, Payload: codec.MustMarshal(mq.SignedEgress{Egress: mq.Egress{Version: mq.EgressVersion, Sender: other, Seq: 1, Topic: registryapi.TopicHeartbeat, Payload: codec.MustMarshal(registryapi.Heartbeat{Height: 2})}})},
		}, 0, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := et.New(t, et.NewKeys(t, 3), registryapi.RoleWorker, et.Options{})
			n.Fold(lightclient.Final{Height: 3, Messages: tc.msgs})
			c := n.Machine.Counters()
			if c.UnknownTopics != tc.unknown || c.Malformed != tc.bad || len(n.Registry.Nodes()) != tc.registryNodes {
				t.Fatalf("counters %+v nodes %d", c, len(n.Registry.Nodes()))
			}
		})
	}
}

// stub is a module that only claims topics.
type stub struct {
	name            string
	topics, follows []string
	egress          []string
}

func (s stub) Name() string                            { return s.name }
func (s stub) Topics() []string                        { return s.topics }
func (s stub) BeginBlock(*module.Context)              {}
func (s stub) MarshalState() []byte                    { return nil }
func (s stub) UnmarshalState([]byte) error             { return nil }
func (s stub) EndBlock(*module.Context) module.Effects { return module.Effects{} }
func (s stub) Fold(*module.Context, mq.Message) (module.Effects, error) {
	return module.Effects{}, nil
}

type followerStub struct{ stub }

func (s followerStub) Follows() []string { return s.follows }

type egressStub struct{ stub }

func (s egressStub) EgressTopics() []string { return s.egress }
func (s egressStub) FoldEgress(*module.Context, mq.SignedEgress) (module.Effects, error) {
	return module.Effects{}, nil
}

// noSecrets is an empty keystore that stores nothing.
type noSecrets struct{}

func (noSecrets) Master(uint32) (derive.MasterKey, bool)           { return derive.MasterKey{}, false }
func (noSecrets) Cluster(string, uint32) (derive.ClusterKey, bool) { return derive.ClusterKey{}, false }
func (noSecrets) Sealed([]byte) ([]byte, bool)                     { return nil, false }
func (noSecrets) Apply([]keystore.Write) error                     { return keystore.ErrKeystore.Wrapf("read only") }

// TestModulesMustFit: the loop refuses at start modules that do not fit
// together.
func TestModulesMustFit(t *testing.T) {
	reg := registryview.New(registryapi.Genesis{})
	tests := []struct {
		name string
		mods []module.Module
		want string // "" : accepted
	}{
		{"the real modules", []module.Module{reg}, ""},
		{"a topic with two owners", []module.Module{reg, stub{name: "x", topics: []string{registryapi.TopicNode}}}, "owned by both"},
		{"a module claiming the loop's topic", []module.Module{stub{name: "x", topics: []string{mq.TopicEgress}}}, "which the loop owns"},
		{"an empty topic", []module.Module{stub{name: "x", topics: []string{""}}}, "empty topic"},
		{"two modules of one name", []module.Module{stub{name: "x"}, stub{name: "x"}}, "named"},
		{"following an unowned topic", []module.Module{followerStub{stub{name: "x", follows: []string{"nobody.owns"}}}}, "no module owns"},
		{"an egress topic followed by two modules", []module.Module{reg, egressStub{stub{name: "x", egress: []string{registryapi.TopicHeartbeat}}}}, ""},
		{"an empty egress topic", []module.Module{egressStub{stub{name: "x", egress: []string{""}}}}, "empty egress topic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enclave.NewMachine(enclave.MachineConfig{ChainID: et.ChainID, Key: et.NewKeys(t, 1).ID, Modules: tc.mods, Secrets: noSecrets{}})
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("no identity key", func(t *testing.T) {
		_, err := enclave.NewMachine(enclave.MachineConfig{ChainID: et.ChainID, Modules: []module.Module{reg}, Secrets: noSecrets{}})
		if !errors.Is(err, enclave.ErrBadRequest) {
			t.Fatalf("got %v, want ErrBadRequest", err)
		}
	})
}

// FuzzFoldPayload folds arbitrary payloads under every known topic: a
// verified message with a malformed payload is skipped, never a crash, and
// the state still encodes and restores.
func FuzzFoldPayload(f *testing.F) {
	k := et.NewKeys(f, 3)
	self := k.Pub()
	f.Add(uint8(0), k.Event("registered", registryapi.RoleWorker, true, nil).Payload)
	f.Add(uint8(1), codec.MustMarshal(registryapi.PolicyEvent{}))
	f.Add(uint8(2), codec.MustMarshal(registryapi.GatekeeperEvent{Grant: registryapi.Grant{IdentityKey: self}, Allowed: true}))
	f.Add(uint8(3), et.EgressMsg(mq.SignedEgress{Egress: mq.Egress{Version: mq.EgressVersion, Sender: self, Seq: 5, Topic: registryapi.TopicHeartbeat, Payload: []byte{0x81, 0x01}}}).Payload)
	f.Add(uint8(3), et.RefusedMsg(mq.SignedEgress{Egress: mq.Egress{Version: mq.EgressVersion, Sender: self, Seq: 5, Topic: registryapi.TopicHeartbeat, Payload: []byte{0x81, 0x01}}}).Payload)
	f.Add(uint8(3), []byte{0xff})
	f.Add(uint8(4), codec.MustMarshal(keysapi.Rotation{Generation: 2}))
	f.Add(uint8(5), codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c", Worker: self, EncryptionKey: []byte{1}}))
	f.Add(uint8(6), codec.MustMarshal(keysapi.ContractEvent{Cluster: "c", Contract: []byte{1}}))
	f.Add(uint8(7), codec.MustMarshal(keysapi.MasterRecorded{Generation: 1, PublicKey: []byte{1}, Sender: self}))
	f.Add(uint8(3), et.EgressMsg(mq.SignedEgress{Egress: mq.Egress{Version: mq.EgressVersion, Sender: self, Seq: 1, Topic: keysapi.TopicMasterHandout, Payload: codec.MustMarshal(keysapi.Handout{Recipient: self, Envelope: []byte{1}})}}).Payload)
	topics := []string{registryapi.TopicNode, registryapi.TopicPolicy, registryapi.TopicGatekeeper, mq.TopicEgress, keysapi.TopicRotation, keysapi.TopicCluster, keysapi.TopicContract, keysapi.TopicMasterRecorded, keysapi.TopicClusterRecorded}
	f.Fuzz(func(t *testing.T, topic uint8, payload []byte) {
		n := et.New(t, k, registryapi.RoleGatekeeper, et.Options{})
		msg := mq.Message{Topic: topics[int(topic)%len(topics)], Payload: payload}
		n.Fold(et.Block(registryview.HeartbeatEvery, msg, msg))
		st := n.State()
		var back enclave.State
		if err := codec.Unmarshal(codec.MustMarshal(st), &back); err != nil {
			t.Fatalf("state no longer round-trips: %v", err)
		}
		for _, sec := range st.Modules {
			mod := map[string]module.Module{n.Registry.Name(): n.Registry, n.KeyMod.Name(): n.KeyMod}[sec.Name]
			if err := mod.UnmarshalState(sec.State); err != nil {
				t.Fatalf("section %s does not restore: %v", sec.Name, err)
			}
		}
	})
}

// flakySecrets is a keystore whose first writes fail, and that checks on
// every write that no queued master public key lacks its secret.
type flakySecrets struct {
	*keystore.Keystore
	t     *testing.T
	fails int
	node  **et.Node
}

func (f *flakySecrets) Apply(w []keystore.Write) error {
	f.t.Helper()
	if n := *f.node; n != nil {
		for _, p := range n.Sent(keysapi.TopicMasterPublic) {
			var mp keysapi.MasterPublic
			if codec.Unmarshal(p, &mp) != nil {
				f.t.Fatal("undecodable master public")
			}
			if _, ok := f.Keystore.Master(mp.Generation); !ok {
				f.t.Fatalf("generation %d's public key is queued before its secret is stored", mp.Generation)
			}
		}
	}
	if f.fails > 0 {
		f.fails--
		return keystore.ErrKeystore.Wrapf("disk full (test)")
	}
	return f.Keystore.Apply(w)
}

// TestSecretsBeforeEgress: the durability order. A gatekeeper's master
// public key is queued only once its secret is in the keystore; a failed
// keystore write queues nothing and the step is retried at the next
// periodic block.
func TestSecretsBeforeEgress(t *testing.T) {
	tests := []struct {
		name      string
		fails     int
		sentAfter int64 // the block whose end queues the public key
	}{
		{"the write succeeds", 0, 2},
		{"the first write fails", 1, keys.RetryEvery},
		{"two writes fail", 2, 2 * keys.RetryEvery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := et.NewKeys(t, 1)
			var n *et.Node
			n = et.New(t, k, registryapi.RoleGatekeeper, et.Options{Secrets: func(ks *keystore.Keystore) enclave.Secrets {
				return &flakySecrets{Keystore: ks, t: t, fails: tc.fails, node: &n}
			}})
			n.Fold(et.Block(2, k.Event("registered", registryapi.RoleGatekeeper, true, nil)))
			for h := int64(3); h <= 2*keys.RetryEvery; h++ {
				if sent := len(n.Sent(keysapi.TopicMasterPublic)); (sent == 1) != (h > tc.sentAfter) || sent > 1 {
					t.Fatalf("before block %d: %d master publics queued, want them after block %d", h, sent, tc.sentAfter)
				}
				n.Fold(et.Block(h))
			}
			m, ok := n.Keystore.Master(1)
			pub, err := keys.MasterPublicKey(et.ChainID, m)
			var mp keysapi.MasterPublic
			if !ok || err != nil || codec.Unmarshal(n.Sent(keysapi.TopicMasterPublic)[0], &mp) != nil || !bytes.Equal(mp.PublicKey, pub) {
				t.Fatal("the queued public key is not the stored secret's")
			}
		})
	}
}

// egressRecorder sends one message on its egress topic in its first block
// and records what the loop hands to FoldEgress.
type egressRecorder struct {
	egressStub
	sent   bool
	folded []mq.SignedEgress
}

func (r *egressRecorder) EndBlock(*module.Context) module.Effects {
	var eff module.Effects
	if !r.sent {
		r.sent = true
		eff.Send(r.egress[0], []byte{0x01})
	}
	return eff
}

func (r *egressRecorder) FoldEgress(_ *module.Context, se mq.SignedEgress) (module.Effects, error) {
	r.folded = append(r.folded, se)
	return module.Effects{}, nil
}

// TestOnlyAcceptedEgressReachesFollowers: whatever the outcome the chain
// republishes, the enclave's own message is confirmed (its sequence number
// is used up); only what the chain accepted reaches the topic's follower,
// whoever sent it.
func TestOnlyAcceptedEgressReachesFollowers(t *testing.T) {
	const topic = "rec.out"
	other := et.NewKeys(t, 2)
	fromOther := mq.SignEgress(et.ChainID, other.ID, mq.Egress{Version: mq.EgressVersion, Sender: other.Pub(), Seq: 1, Topic: topic, Payload: []byte{0x02}})
	tests := []struct {
		outcome mq.Outcome
		folded  int // of the two messages, ours and the other node's
	}{{mq.OutcomeAccepted, 2}, {mq.OutcomeRefused, 0}, {mq.OutcomeDuplicate, 0}}
	for _, tc := range tests {
		t.Run(tc.outcome.String(), func(t *testing.T) {
			rec := &egressRecorder{egressStub: egressStub{stub{name: "rec", egress: []string{topic}}}}
			m, err := enclave.NewMachine(enclave.MachineConfig{ChainID: et.ChainID, Key: et.NewKeys(t, 1).ID, Role: registryapi.RoleWorker, Modules: []module.Module{rec}, Secrets: noSecrets{}})
			if err != nil {
				t.Fatal(err)
			}
			m.Block(et.Block(1))
			ours := m.Pending()
			if len(ours) != 1 {
				t.Fatalf("%d messages queued, want 1", len(ours))
			}
			m.Block(et.Block(2, mq.Republish(ours[0], tc.outcome), mq.Republish(fromOther, tc.outcome)))
			if n := len(m.Pending()); n != 0 {
				t.Fatalf("our message is still pending after the chain republished it as %s", tc.outcome)
			}
			if len(rec.folded) != tc.folded {
				t.Fatalf("the follower folded %d messages republished as %s, want %d", len(rec.folded), tc.outcome, tc.folded)
			}
			if c := m.Counters(); c.Malformed != 0 || c.UnknownTopics != 0 {
				t.Fatalf("counters %+v", c)
			}
		})
	}
}
