package runtime

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"log/slog"
	"testing"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/lightclient"
)

// These tests fold hand-made final blocks: the handlers' logic without a
// chain. chain-backed tests (runtime_test.go) cover the same with real
// blocks.

func nodeMsg(kind string, key []byte, active bool) mq.Message {
	ev := registryapi.NodeEvent{Kind: kind, Node: registryapi.Node{Role: registryapi.RoleWorker, IdentityKey: key, EncryptionKey: []byte{1, 2}, Active: active}}
	return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
}

func egressMsg(se mq.SignedEgress) mq.Message {
	return mq.Message{Topic: mq.TopicEgress, Payload: codec.MustMarshal(se)}
}

type foldCase struct {
	name   string
	blocks func(self []byte, sent func(i int) mq.SignedEgress) []lightclient.Final
	check  func(t *testing.T, st *State)
}

func heartbeatHeights(t *testing.T, st *State) []int64 {
	var out []int64
	for _, se := range st.Outbox.Pending {
		var hb registryapi.Heartbeat
		if se.Egress.Topic != registryapi.TopicHeartbeat || codec.Unmarshal(se.Egress.Payload, &hb) != nil {
			t.Fatalf("unexpected egress %+v", se.Egress)
		}
		out = append(out, hb.Height)
	}
	return out
}

func TestFold(t *testing.T) {
	other := bytes.Repeat([]byte{9}, 32)
	tests := []foldCase{
		{"unknown topics are counted and ignored", func([]byte, func(int) mq.SignedEgress) []lightclient.Final {
			return []lightclient.Final{{Height: 3, Messages: []mq.Message{{Topic: "bank.nothing", Payload: []byte{1}}}}}
		}, func(t *testing.T, st *State) {
			if st.Counters.UnknownTopics != 1 || st.Counters.Malformed != 0 || len(st.Registry.Nodes) != 0 {
				t.Fatalf("counters %+v nodes %d", st.Counters, len(st.Registry.Nodes))
			}
		}},
		{"malformed payloads are skipped, the rest still applies", func(self []byte, _ func(int) mq.SignedEgress) []lightclient.Final {
			return []lightclient.Final{{Height: 3, Messages: []mq.Message{
				{Topic: registryapi.TopicNode, Payload: []byte{0xff, 0x00}},
				{Topic: registryapi.TopicPolicy, Payload: nil},
				{Topic: mq.TopicEgress, Payload: []byte("garbage")},
				nodeMsg("registered", other, true),
			}}}
		}, func(t *testing.T, st *State) {
			if st.Counters.Malformed != 3 || len(st.Registry.Nodes) != 1 || !st.Registry.Nodes[0].Active {
				t.Fatalf("counters %+v nodes %+v", st.Counters, st.Registry.Nodes)
			}
		}},
		{"registry events update the view", func([]byte, func(int) mq.SignedEgress) []lightclient.Final {
			g := registryapi.Grant{IdentityKey: other}
			return []lightclient.Final{
				{Height: 3, Messages: []mq.Message{
					{Topic: registryapi.TopicPolicy, Payload: codec.MustMarshal(registryapi.PolicyEvent{Policy: attest.Policy{AllowSim: true, MinTCBEvalDataNumber: 17}})},
					{Topic: registryapi.TopicGatekeeper, Payload: codec.MustMarshal(registryapi.GatekeeperEvent{Grant: g, Allowed: true})},
					nodeMsg("registered", other, true),
				}},
				{Height: 4, Messages: []mq.Message{nodeMsg("deactivated", other, false)}},
			}
		}, func(t *testing.T, st *State) {
			v := st.Registry
			if v.Policy.MinTCBEvalDataNumber != 17 || len(v.Grants) != 1 || len(v.Nodes) != 1 || v.Nodes[0].Active || st.Registered {
				t.Fatalf("view %+v registered %v", v, st.Registered)
			}
		}},
		{"registration on a heartbeat height sends one heartbeat", func(self []byte, _ func(int) mq.SignedEgress) []lightclient.Final {
			return []lightclient.Final{{Height: HeartbeatEvery, Messages: []mq.Message{nodeMsg("registered", self, true)}}}
		}, func(t *testing.T, st *State) {
			if got := heartbeatHeights(t, st); len(got) != 1 {
				t.Fatalf("heartbeats at %v", got)
			}
		}},
		{"deactivation stops heartbeats", func(self []byte, _ func(int) mq.SignedEgress) []lightclient.Final {
			return []lightclient.Final{
				{Height: 5, Messages: []mq.Message{nodeMsg("registered", self, true)}},
				{Height: 6, Messages: []mq.Message{nodeMsg("deactivated", self, false)}},
				{Height: HeartbeatEvery},
			}
		}, func(t *testing.T, st *State) {
			if got := heartbeatHeights(t, st); st.Registered || len(got) != 1 {
				t.Fatalf("registered %v heartbeats at %v", st.Registered, got)
			}
		}},
		{"an unconfirmed heartbeat is not joined by more; its republication confirms it", func(self []byte, sent func(int) mq.SignedEgress) []lightclient.Final {
			out := []lightclient.Final{{Height: 7, Messages: []mq.Message{nodeMsg("registered", self, true)}}}
			for h := int64(8); h <= 2*HeartbeatEvery; h++ {
				out = append(out, lightclient.Final{Height: h})
			}
			out = append(out, lightclient.Final{Height: 2*HeartbeatEvery + 1, Messages: []mq.Message{egressMsg(sent(0))}})
			for h := int64(2*HeartbeatEvery + 2); h <= 3*HeartbeatEvery; h++ {
				out = append(out, lightclient.Final{Height: h})
			}
			return out
		}, func(t *testing.T, st *State) {
			if got := heartbeatHeights(t, st); len(got) != 1 || got[0] != 3*HeartbeatEvery {
				t.Fatalf("heartbeats pending at %v, want only the one of height %d", got, 3*HeartbeatEvery)
			}
			if st.Outbox.Pending[0].Egress.Seq != 2 || st.Outbox.NextSeq != 3 {
				t.Fatalf("outbox %+v", st.Outbox)
			}
			if st.Registry.Nodes[0].LastHeartbeat != 7 {
				t.Fatalf("last heartbeat %d, want the registration's 7", st.Registry.Nodes[0].LastHeartbeat)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, key := foldState(t)
			f := folder{st: &st, keys: signer{key}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			self := key.Public().(ed25519.PublicKey)
			// sent(i) is the i-th message this runtime would send, taken
			// from a dry run of the same blocks (egress is deterministic).
			sent := func(i int) mq.SignedEgress {
				dry, _ := foldState(t)
				df := folder{st: &dry, keys: signer{key}, log: f.log}
				for _, b := range tc.blocks(self, func(int) mq.SignedEgress { return mq.SignedEgress{} }) {
					df.block(b)
				}
				return dry.Outbox.Pending[i]
			}
			for _, b := range tc.blocks(self, sent) {
				f.block(b)
			}
			tc.check(t, &st)
		})
	}
}

var foldKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

func foldState(t *testing.T) (State, ed25519.PrivateKey) {
	t.Helper()
	return State{
		Version: StateVersion, Identity: foldKey.Public().(ed25519.PublicKey), Role: registryapi.RoleWorker,
		Light: lightclient.State{ChainID: "fold-test"}, Outbox: Outbox{NextSeq: 1},
	}, foldKey
}

func TestGrantsOrderDoesNotChangeTheHash(t *testing.T) {
	a, b := registryapi.Grant{IdentityKey: bytes.Repeat([]byte{1}, 32)}, registryapi.Grant{IdentityKey: bytes.Repeat([]byte{2}, 32)}
	s1, _ := foldState(t)
	s2, _ := foldState(t)
	s1.Registry.setGrant(a, true)
	s1.Registry.setGrant(b, true)
	s2.Registry.setGrant(b, true)
	s2.Registry.setGrant(a, true)
	s2.Registry.setGrant(a, true) // twice: still one
	if !bytes.Equal(s1.Hash(), s2.Hash()) || len(s2.Registry.Grants) != 2 {
		t.Fatalf("grant order changed the state: %d grants", len(s2.Registry.Grants))
	}
	s2.Registry.setGrant(a, false)
	if len(s2.Registry.Grants) != 1 || !bytes.Equal(s2.Registry.Grants[0].IdentityKey, b.IdentityKey) {
		t.Fatalf("grants after removal: %+v", s2.Registry.Grants)
	}
}

// FuzzFoldPayload folds arbitrary payloads under every known topic: a
// verified message with a malformed payload is skipped, never a crash, and
// the state still encodes.
func FuzzFoldPayload(f *testing.F) {
	self := foldKey.Public().(ed25519.PublicKey)
	f.Add(uint8(0), nodeMsg("registered", self, true).Payload)
	f.Add(uint8(1), codec.MustMarshal(registryapi.PolicyEvent{}))
	f.Add(uint8(2), codec.MustMarshal(registryapi.GatekeeperEvent{Grant: registryapi.Grant{IdentityKey: self}, Allowed: true}))
	f.Add(uint8(3), codec.MustMarshal(mq.SignedEgress{Egress: mq.Egress{Sender: self, Seq: 5, Topic: registryapi.TopicHeartbeat, Payload: []byte{0x81, 0x01}}}))
	f.Add(uint8(3), []byte{0xff})
	f.Add(uint8(4), codec.MustMarshal(keysapi.Rotation{Generation: 2}))
	f.Add(uint8(5), codec.MustMarshal(keysapi.ClusterEvent{Cluster: "c", Worker: self, EncryptionKey: []byte{1}}))
	f.Add(uint8(6), codec.MustMarshal(keysapi.ContractEvent{Cluster: "c", Contract: []byte{1}}))
	f.Add(uint8(3), codec.MustMarshal(mq.SignedEgress{Egress: mq.Egress{Sender: self, Seq: 1, Topic: keysapi.TopicMasterHandout, Payload: codec.MustMarshal(keysapi.Handout{Recipient: self, Envelope: []byte{1}})}}))
	topics := []string{registryapi.TopicNode, registryapi.TopicPolicy, registryapi.TopicGatekeeper, mq.TopicEgress, keysapi.TopicRotation, keysapi.TopicCluster, keysapi.TopicContract}
	f.Fuzz(func(t *testing.T, topic uint8, payload []byte) {
		st, key := foldState(t)
		fo := folder{st: &st, keys: signer{key}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		msg := mq.Message{Topic: topics[int(topic)%len(topics)], Payload: payload}
		fo.block(lightclient.Final{Height: HeartbeatEvery, Messages: []mq.Message{msg, msg}})
		if _, err := st.clone(); err != nil {
			t.Fatalf("state no longer round-trips: %v", err)
		}
	})
}

// TestConfirmDropsEverythingBefore: the chain republishing one of our
// messages confirms it and every earlier one (sequence numbers are
// exactly-next, so the earlier ones were accepted too).
func TestConfirmDropsEverythingBefore(t *testing.T) {
	st, key := foldState(t)
	f := folder{st: &st, keys: signer{key}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 0; i < 3; i++ {
		f.send("test/topic", []byte{byte(i)})
	}
	f.confirm(st.Outbox.Pending[1])
	if len(st.Outbox.Pending) != 1 || st.Outbox.Pending[0].Egress.Seq != 3 || st.Outbox.NextSeq != 4 {
		t.Fatalf("outbox %+v", st.Outbox)
	}
	f.confirm(st.Outbox.Pending[0])
	if st.Outbox.Pending != nil || st.Outbox.NextSeq != 4 {
		t.Fatalf("outbox %+v", st.Outbox)
	}
}

// TestHeartbeatEveryPeriod: registration sends a heartbeat, then one goes
// every HeartbeatEvery blocks, each signed with the next sequence number,
// as the chain confirms the one before.
func TestHeartbeatEveryPeriod(t *testing.T) {
	st, key := foldState(t)
	f := folder{st: &st, keys: signer{key}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	self := key.Public().(ed25519.PublicKey)
	f.block(lightclient.Final{Height: 7, Messages: []mq.Message{nodeMsg("registered", self, true)}})
	next := int64(8)
	for i, want := range []int64{7, HeartbeatEvery, 2 * HeartbeatEvery} {
		for ; next <= want; next++ {
			f.block(lightclient.Final{Height: next})
		}
		got := heartbeatHeights(t, &st)
		if !st.Registered || len(got) != 1 || got[0] != want {
			t.Fatalf("registered %v, heartbeats pending at %v, want [%d]", st.Registered, got, want)
		}
		se := st.Outbox.Pending[0]
		if se.Egress.Seq != uint64(i+1) || se.Verify(st.Light.ChainID) != nil {
			t.Fatalf("heartbeat %d: seq %d, verify %v", i, se.Egress.Seq, se.Verify(st.Light.ChainID))
		}
		// the chain accepts and republishes it in the next block
		f.block(lightclient.Final{Height: next, Messages: []mq.Message{egressMsg(se)}})
		next++
		if len(st.Outbox.Pending) != 0 || st.Registry.Nodes[0].LastHeartbeat != want {
			t.Fatalf("after confirmation: outbox %+v, last heartbeat %d", st.Outbox, st.Registry.Nodes[0].LastHeartbeat)
		}
	}
}
