package registryview_test

import (
	"bytes"
	"testing"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	et "github.com/phala-go/phala/worker/enclave/enclavetest"
	"github.com/phala-go/phala/worker/enclave/registryview"
	"github.com/phala-go/phala/worker/lightclient"
)

const every = registryview.HeartbeatEvery

func nodeMsg(kind string, key []byte, active bool) mq.Message {
	ev := registryapi.NodeEvent{Kind: kind, Node: registryapi.Node{Role: registryapi.RoleWorker, IdentityKey: key, EncryptionKey: []byte{1, 2}, Active: active}}
	return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
}

func heartbeatHeights(t *testing.T, n *et.Node) []int64 {
	t.Helper()
	var out []int64
	for _, se := range n.Machine.Pending() {
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
	tests := []struct {
		name   string
		blocks func(self []byte, sent func(i int) mq.SignedEgress) []lightclient.Final
		check  func(t *testing.T, n *et.Node)
	}{
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
		}, func(t *testing.T, n *et.Node) {
			v := n.Registry
			if v.Policy().MinTCBEvalDataNumber != 17 || len(v.Grants()) != 1 || len(v.Nodes()) != 1 || v.Nodes()[0].Active || v.Registered() {
				t.Fatalf("view %+v %+v registered %v", v.Policy(), v.Nodes(), v.Registered())
			}
		}},
		{"registration on a heartbeat height sends one heartbeat", func(self []byte, _ func(int) mq.SignedEgress) []lightclient.Final {
			return []lightclient.Final{{Height: every, Messages: []mq.Message{nodeMsg("registered", self, true)}}}
		}, func(t *testing.T, n *et.Node) {
			if got := heartbeatHeights(t, n); len(got) != 1 {
				t.Fatalf("heartbeats at %v", got)
			}
		}},
		{"deactivation stops heartbeats", func(self []byte, _ func(int) mq.SignedEgress) []lightclient.Final {
			return []lightclient.Final{
				{Height: 5, Messages: []mq.Message{nodeMsg("registered", self, true)}},
				{Height: 6, Messages: []mq.Message{nodeMsg("deactivated", self, false)}},
				{Height: every},
			}
		}, func(t *testing.T, n *et.Node) {
			if got := heartbeatHeights(t, n); n.Registry.Registered() || len(got) != 1 {
				t.Fatalf("registered %v heartbeats at %v", n.Registry.Registered(), got)
			}
		}},
		{"an unconfirmed heartbeat is not joined by more; its republication confirms it", func(self []byte, sent func(int) mq.SignedEgress) []lightclient.Final {
			out := []lightclient.Final{{Height: 7, Messages: []mq.Message{nodeMsg("registered", self, true)}}}
			for h := int64(8); h <= 2*every; h++ {
				out = append(out, lightclient.Final{Height: h})
			}
			out = append(out, lightclient.Final{Height: 2*every + 1, Messages: []mq.Message{et.EgressMsg(sent(0))}})
			for h := int64(2*every + 2); h <= 3*every; h++ {
				out = append(out, lightclient.Final{Height: h})
			}
			return out
		}, func(t *testing.T, n *et.Node) {
			if got := heartbeatHeights(t, n); len(got) != 1 || got[0] != 3*every {
				t.Fatalf("heartbeats pending at %v, want only the one of height %d", got, 3*every)
			}
			st := n.State()
			if st.Outbox.Pending[0].Egress.Seq != 2 || st.Outbox.NextSeq != 3 {
				t.Fatalf("outbox %+v", st.Outbox)
			}
			if hb := n.Registry.Nodes()[0].LastHeartbeat; hb != 7 {
				t.Fatalf("last heartbeat %d, want the registration's 7", hb)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := et.NewKeys(t, 3)
			n := et.New(t, k, registryapi.RoleWorker, et.Options{})
			// sent(i) is the i-th message this enclave would send, taken
			// from a dry run of the same blocks (egress is deterministic).
			sent := func(i int) mq.SignedEgress {
				dry := et.New(t, k, registryapi.RoleWorker, et.Options{})
				dry.Fold(tc.blocks(k.Pub(), func(int) mq.SignedEgress { return mq.SignedEgress{} })...)
				return dry.Machine.Pending()[i]
			}
			n.Fold(tc.blocks(k.Pub(), sent)...)
			tc.check(t, n)
		})
	}
}

// TestHeartbeatEveryPeriod: registration sends a heartbeat, then one goes
// every HeartbeatEvery blocks, each signed with the next sequence number,
// as the chain confirms the one before.
func TestHeartbeatEveryPeriod(t *testing.T) {
	k := et.NewKeys(t, 3)
	n := et.New(t, k, registryapi.RoleWorker, et.Options{})
	n.Fold(lightclient.Final{Height: 7, Messages: []mq.Message{nodeMsg("registered", k.Pub(), true)}})
	next := int64(8)
	for i, want := range []int64{7, every, 2 * every} {
		for ; next <= want; next++ {
			n.Fold(lightclient.Final{Height: next})
		}
		got := heartbeatHeights(t, n)
		if !n.Registry.Registered() || len(got) != 1 || got[0] != want {
			t.Fatalf("registered %v, heartbeats pending at %v, want [%d]", n.Registry.Registered(), got, want)
		}
		se := n.Machine.Pending()[0]
		if se.Egress.Seq != uint64(i+1) || se.Verify(et.ChainID) != nil {
			t.Fatalf("heartbeat %d: seq %d, verify %v", i, se.Egress.Seq, se.Verify(et.ChainID))
		}
		// the chain accepts and republishes it in the next block
		n.Fold(lightclient.Final{Height: next, Messages: []mq.Message{et.EgressMsg(se)}})
		next++
		if len(n.Machine.Pending()) != 0 || n.Registry.Nodes()[0].LastHeartbeat != want {
			t.Fatalf("after confirmation: outbox %d, last heartbeat %d", len(n.Machine.Pending()), n.Registry.Nodes()[0].LastHeartbeat)
		}
	}
}

func TestGrantsOrderDoesNotChangeTheHash(t *testing.T) {
	a, b := registryapi.Grant{IdentityKey: bytes.Repeat([]byte{1}, 32)}, registryapi.Grant{IdentityKey: bytes.Repeat([]byte{2}, 32)}
	grant := func(g registryapi.Grant, allowed bool) mq.Message {
		return mq.Message{Topic: registryapi.TopicGatekeeper, Payload: codec.MustMarshal(registryapi.GatekeeperEvent{Grant: g, Allowed: allowed})}
	}
	k := et.NewKeys(t, 3)
	n1 := et.New(t, k, registryapi.RoleWorker, et.Options{})
	n2 := et.New(t, k, registryapi.RoleWorker, et.Options{})
	n1.Fold(et.Block(1, grant(a, true), grant(b, true)))
	n2.Fold(et.Block(1, grant(b, true), grant(a, true), grant(a, true))) // twice: still one
	if !bytes.Equal(n1.Registry.MarshalState(), n2.Registry.MarshalState()) || len(n2.Registry.Grants()) != 2 {
		t.Fatalf("grant order changed the state: %d grants", len(n2.Registry.Grants()))
	}
	n2.Fold(et.Block(2, grant(a, false)))
	if g := n2.Registry.Grants(); len(g) != 1 || !bytes.Equal(g[0].IdentityKey, b.IdentityKey) {
		t.Fatalf("grants after removal: %+v", g)
	}
}

// TestRefusedHeartbeatChangesNothing: heartbeats the chain's registry
// refused (a stale one of ours, a future one of another node) leave the
// view as it was, whatever their heights; ours is still confirmed, since
// the chain used up its sequence number.
func TestRefusedHeartbeatChangesNothing(t *testing.T) {
	k, other := et.NewKeys(t, 3), et.NewKeys(t, 4)
	n := et.New(t, k, registryapi.RoleWorker, et.Options{})
	n.Fold(et.Block(7, nodeMsg("registered", k.Pub(), true), nodeMsg("registered", other.Pub(), true)))
	n.Fold(et.Block(8, et.EgressMsg(n.Machine.Pending()[0])))
	for h := int64(9); h <= every; h++ {
		n.Fold(et.Block(h))
	}
	ours := n.Machine.Pending()
	if len(ours) != 1 {
		t.Fatalf("%d heartbeats pending at %d, want 1", len(ours), every)
	}
	view := n.Registry.MarshalState()
	future := mq.SignEgress(et.ChainID, other.ID, mq.Egress{Version: mq.EgressVersion, Sender: other.Pub(), Seq: 1, Topic: registryapi.TopicHeartbeat, Payload: codec.MustMarshal(registryapi.Heartbeat{Height: 1000})})
	n.Fold(et.Block(every+1, et.RefusedMsg(ours[0]), et.RefusedMsg(future)))
	if !bytes.Equal(n.Registry.MarshalState(), view) {
		t.Fatalf("refused heartbeats changed the view: %+v", n.Registry.Nodes())
	}
	if p := n.Machine.Pending(); len(p) != 0 {
		t.Fatalf("our refused heartbeat is still pending: %d messages", len(p))
	}
	if hb, _ := n.Registry.Node(k.Pub()); hb.LastHeartbeat != 7 {
		t.Fatalf("last heartbeat %d, want the accepted 7", hb.LastHeartbeat)
	}
}
