package keys_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
)

// keysNet is a chain with two gatekeepers (operated by bob), two workers
// (operated by alice, the admin) and a gatekeeper of carol's whose grant
// the tests can withdraw.
type keysNet struct {
	*apptest.Chain
	gk1, gk2, gkCarol apptest.TEENode
	w1, w2            apptest.TEENode
	spare             apptest.TEENode // a worker in no cluster, when a test registers one
	contract          []byte          // a contract whose key was requested, when a test instantiates one
}

// instantiate asks for a contract key the one way there is: it uploads a
// small code (once; the chain does not read it) and instantiates it in
// cluster, whose public key must be recorded, then checks the request was
// published for the gatekeepers. It returns the contract id.
func (n *keysNet) instantiate(cluster string, salt byte) []byte {
	n.T.Helper()
	code := []byte("keys test code: the chain never runs it")
	h := contractsapi.Hash(sha256.Sum256(code))
	if err := n.Query(contractsapi.QueryCode, h[:], &contractsapi.Code{}); err != nil {
		n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, contractsapi.Upload{CodeHash: h, Size: uint64(len(code)), Chunk: code}))
	}
	c := n.cluster(cluster)
	init, err := envelope.SealTo(apptest.ChainID, envelope.Command, envelope.Default, c.Publics[len(c.Publics)-1].PublicKey, []byte{0x81, 0x40}, nil)
	if err != nil {
		n.T.Fatal(err)
	}
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodInstantiate, contractsapi.Instantiate{CodeHash: h, Cluster: cluster, Salt: []byte{salt}, InitArgs: init}))
	id := contractsapi.ContractID(apptest.ChainID, apptest.Alice.Addr, h, cluster, []byte{salt})
	var ev keysapi.ContractEvent
	if got := n.Published(keysapi.TopicContract); len(got) != 1 || codec.Unmarshal(got[0], &ev) != nil || ev.Cluster != cluster || !bytes.Equal(ev.Contract, id[:]) {
		n.T.Fatalf("instantiation published no key request for %x: %+v", id, ev)
	}
	return id[:]
}

func newKeysNet(t *testing.T) *keysNet {
	t.Helper()
	h := apptest.New(t)
	h.Block()
	alice, bob, carol := apptest.Alice, apptest.Bob, apptest.Carol
	for _, op := range []apptest.Account{bob, carol} {
		h.MustSucceed(h.Tx(alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: op.Addr}, Allowed: true}))
	}
	n := &keysNet{Chain: h}
	n.gk1, n.gk2 = h.Register(bob, registryapi.RoleGatekeeper), h.Register(bob, registryapi.RoleGatekeeper)
	n.gkCarol = h.Register(carol, registryapi.RoleGatekeeper)
	n.w1, n.w2 = h.Register(alice, registryapi.RoleWorker), h.Register(alice, registryapi.RoleWorker)
	return n
}

// admin runs from's transaction in a block of its own and returns its
// result; from need not be the admin.
func (n *keysNet) admin(from apptest.Account, method string, body any) *abci.ExecTxResult {
	n.T.Helper()
	return n.Block(n.Tx(from, method, body)).TxResults[0]
}

// mustAdmin runs the admin's (alice's) transaction and requires it to
// succeed.
func (n *keysNet) mustAdmin(method string, body any) {
	n.T.Helper()
	if r := n.admin(apptest.Alice, method, body); r.Code != 0 {
		n.T.Fatalf("%s: %s", method, r.Log)
	}
}

// send submits node's next egress message on topic (relayed by alice) and
// returns the mq.submit result.
func (n *keysNet) send(from apptest.TEENode, topic string, payload any) *abci.ExecTxResult {
	n.T.Helper()
	raw, ok := payload.([]byte)
	if !ok {
		raw = codec.MustMarshal(payload)
	}
	msg := apptest.Egress(from, n.EgressSeq(from)+1, topic, raw)
	r := n.Block(n.Submit(apptest.Alice, msg)).TxResults[0]
	if r.Code != 0 {
		n.T.Fatalf("mq.submit on %s refused: %s", topic, r.Log)
	}
	return r
}

// mustAccept sends and requires the keys module to have applied it.
func (n *keysNet) mustAccept(from apptest.TEENode, topic string, payload any) {
	n.T.Helper()
	if r := n.send(from, topic, payload); !apptest.HasEvent(r.Events, mq.EventAccepted) {
		n.T.Fatalf("%s not accepted: %v", topic, r.Events)
	}
}

func (n *keysNet) master() keysapi.MasterInfo {
	n.T.Helper()
	var m keysapi.MasterInfo
	if err := n.Query(keysapi.QueryMaster, nil, &m); err != nil {
		n.T.Fatal(err)
	}
	return m
}

func (n *keysNet) cluster(id string) keysapi.ClusterInfo {
	n.T.Helper()
	var c keysapi.ClusterInfo
	if err := n.Query(keysapi.QueryCluster, []byte(id), &c); err != nil {
		n.T.Fatal(err)
	}
	return c
}

// keysState is every item of the keys module, to show a refusal changed
// nothing in it.
func (n *keysNet) keysState() string {
	n.T.Helper()
	var b strings.Builder
	err := n.App.Store().Iterate([]byte{state.ModuleKeys}, func(k, v []byte) error {
		fmt.Fprintf(&b, "%x=%x\n", k, v)
		return nil
	})
	if err != nil {
		n.T.Fatal(err)
	}
	return b.String()
}

func sealTo(t testing.TB, p envelope.Purpose, to apptest.TEENode) []byte {
	env, err := envelope.SealTo(apptest.ChainID, p, envelope.Default, to.Encryption, []byte("a key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func masterHandout(t testing.TB, to apptest.TEENode) keysapi.Handout {
	return keysapi.Handout{Recipient: to.Pub(), Envelope: sealTo(t, envelope.MasterKeyHandout, to)}
}

func clusterHandout(t testing.TB, cluster string, to apptest.TEENode) keysapi.Handout {
	return keysapi.Handout{Recipient: to.Pub(), Cluster: cluster, Envelope: sealTo(t, envelope.ClusterKeyHandout, to)}
}

func TestKeysGenesisPendsTheFirstGeneration(t *testing.T) {
	n := &keysNet{Chain: apptest.New(t)}
	m := n.master()
	if m.Pending != 1 || m.Newest != 0 || len(m.Publics) != 0 {
		t.Fatalf("genesis master info: %+v", m)
	}
	var cs []keysapi.ClusterInfo
	if err := n.Query(keysapi.QueryClusters, nil, &cs); err != nil || len(cs) != 0 {
		t.Fatalf("genesis clusters %v (%v)", cs, err)
	}
}

func TestKeysAdminTransactions(t *testing.T) {
	alice, bob := apptest.Alice, apptest.Bob
	recordGen1 := func(n *keysNet) {
		n.mustAccept(n.gk1, keysapi.TopicMasterPublic, keysapi.MasterPublic{Generation: 1, PublicKey: apptest.NewEncryptionKey(t)})
	}
	withCluster := func(n *keysNet) { n.mustAdmin(keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "c1"}) }
	tests := []struct {
		name   string
		setup  func(n *keysNet)
		from   apptest.Account
		method string
		body   func(n *keysNet) any
		want   error  // nil: success
		topic  string // on success: published here
	}{
		{"create cluster", nil, alice, keysapi.MethodCreateCluster, func(*keysNet) any { return keysapi.CreateCluster{ID: "default_1-a"} }, nil, keysapi.TopicCluster},
		{"create cluster by non-admin", nil, bob, keysapi.MethodCreateCluster, func(*keysNet) any { return keysapi.CreateCluster{ID: "c1"} }, keysapi.ErrUnauthorized, ""},
		{"duplicate cluster", withCluster, alice, keysapi.MethodCreateCluster, func(*keysNet) any { return keysapi.CreateCluster{ID: "c1"} }, keysapi.ErrClusterExists, ""},
		{"cluster id with a space", nil, alice, keysapi.MethodCreateCluster, func(*keysNet) any { return keysapi.CreateCluster{ID: "a b"} }, keysapi.ErrInvalid, ""},
		{"empty cluster id", nil, alice, keysapi.MethodCreateCluster, func(*keysNet) any { return keysapi.CreateCluster{} }, keysapi.ErrInvalid, ""},
		{"cluster id too long", nil, alice, keysapi.MethodCreateCluster, func(*keysNet) any { return keysapi.CreateCluster{ID: strings.Repeat("a", 65)} }, keysapi.ErrInvalid, ""},
		{"malformed body", nil, alice, keysapi.MethodCreateCluster, func(*keysNet) any { return "c1" }, keysapi.ErrInvalid, ""},

		{"assign worker", withCluster, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()} }, nil, keysapi.TopicCluster},
		{"assign by non-admin", withCluster, bob, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()} }, keysapi.ErrUnauthorized, ""},
		{"assign to unknown cluster", nil, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()} }, keysapi.ErrUnknownCluster, ""},
		{"assign unregistered worker", withCluster, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: apptest.NewTEENode(t).Pub()} }, keysapi.ErrNotWorker, ""},
		{"assign a gatekeeper", withCluster, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.gk1.Pub()} }, keysapi.ErrNotWorker, ""},
		{"assign an inactive worker", func(n *keysNet) {
			withCluster(n)
			n.mustAdmin(registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}})
		}, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()} }, keysapi.ErrNotWorker, ""},
		{"assign twice", func(n *keysNet) {
			withCluster(n)
			n.mustAdmin(keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()})
		}, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()} }, keysapi.ErrAssigned, ""},
		{"assign to a second cluster", func(n *keysNet) {
			withCluster(n)
			n.mustAdmin(keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "c2"})
			n.mustAdmin(keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "c2", Worker: n.w1.Pub()})
		}, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()} }, keysapi.ErrAssigned, ""},
		{"assign a short key", withCluster, alice, keysapi.MethodAssignWorker, func(n *keysNet) any { return keysapi.AssignWorker{Cluster: "c1", Worker: n.w1.Pub()[:31]} }, keysapi.ErrInvalid, ""},

		{"rotate", recordGen1, alice, keysapi.MethodRotate, func(*keysNet) any { return keysapi.Rotate{} }, nil, keysapi.TopicRotation},
		{"rotate at genesis (generation 1 pending)", nil, alice, keysapi.MethodRotate, func(*keysNet) any { return keysapi.Rotate{} }, keysapi.ErrRotationPending, ""},
		{"rotate while a rotation is pending", func(n *keysNet) {
			recordGen1(n)
			n.mustAdmin(keysapi.MethodRotate, keysapi.Rotate{})
		}, alice, keysapi.MethodRotate, func(*keysNet) any { return keysapi.Rotate{} }, keysapi.ErrRotationPending, ""},
		{"rotate by non-admin", recordGen1, bob, keysapi.MethodRotate, func(*keysNet) any { return keysapi.Rotate{} }, keysapi.ErrUnauthorized, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newKeysNet(t)
			if tc.setup != nil {
				tc.setup(n)
			}
			raw := n.Tx(tc.from, tc.method, tc.body(n))
			charge := n.ChargeWrites(raw)
			if r := n.Check(raw); (tc.want == nil) != (r.Code == 0) {
				t.Fatalf("CheckTx: %s/%d %q", r.Codespace, r.Code, r.Log)
			}
			r := n.Block(raw).TxResults[0]
			if tc.want == nil {
				if r.Code != 0 {
					t.Fatalf("refused: %s", r.Log)
				}
				if len(n.Published(tc.topic)) != 1 {
					t.Fatalf("nothing published on %s", tc.topic)
				}
				return
			}
			if !errors.Is(apptest.TxErr(r), tc.want) {
				t.Fatalf("got %s/%d %q, want %v", r.Codespace, r.Code, r.Log, tc.want)
			}
			// Refused by the method: the fee is paid, nothing else changes.
			n.MustWrite(charge)
		})
	}
}

// TestKeysEgressRejections: every refused key message uses up its sequence
// number and is reported in an mq.egress_rejected event, and leaves the
// keys module's state exactly as it was.
func TestKeysEgressRejections(t *testing.T) {
	alice, carol := apptest.Alice, apptest.Carol
	pub := apptest.NewEncryptionKey(t)
	master := func(gen uint32, key []byte) keysapi.MasterPublic {
		return keysapi.MasterPublic{Generation: gen, PublicKey: key}
	}
	// ready records generation 1, creates clusters c1 (with w1, its
	// public key pub recorded) and c2 (with w2), and instantiates
	// n.contract in c1, which asks for its key.
	ready := func(n *keysNet) {
		n.mustAccept(n.gk1, keysapi.TopicMasterPublic, master(1, pub))
		for i, w := range []apptest.TEENode{n.w1, n.w2} {
			id := fmt.Sprintf("c%d", i+1)
			n.mustAdmin(keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: id})
			n.mustAdmin(keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: id, Worker: w.Pub()})
		}
		n.mustAccept(n.gk1, keysapi.TopicClusterPublic, keysapi.ClusterPublic{Cluster: "c1", Generation: 1, PublicKey: pub})
		n.contract = n.instantiate("c1", 1)
	}
	tests := []struct {
		name    string
		setup   func(n *keysNet)
		from    func(n *keysNet) apptest.TEENode
		topic   string
		payload func(n *keysNet) any
		want    error
	}{
		{"master public for a generation not pending", nil, gk1, keysapi.TopicMasterPublic, func(*keysNet) any { return master(2, pub) }, keysapi.ErrGeneration},
		{"master public of generation 0", nil, gk1, keysapi.TopicMasterPublic, func(*keysNet) any { return master(0, pub) }, keysapi.ErrInvalid},
		{"master public that is no key", nil, gk1, keysapi.TopicMasterPublic, func(*keysNet) any { return master(1, pub[:100]) }, keysapi.ErrBadPublicKey},
		{"master public from a worker", nil, w1, keysapi.TopicMasterPublic, func(*keysNet) any { return master(1, pub) }, keysapi.ErrNotGatekeeper},
		{"master public conflicting with the recorded one", ready, gk2, keysapi.TopicMasterPublic, func(*keysNet) any { return master(1, apptest.NewEncryptionKey(t)) }, keysapi.ErrConflict},
		{"master public for a past generation", func(n *keysNet) {
			ready(n)
			n.mustAdmin(keysapi.MethodRotate, keysapi.Rotate{})
			n.mustAccept(n.gk1, keysapi.TopicMasterPublic, master(2, apptest.NewEncryptionKey(t)))
		}, gk2, keysapi.TopicMasterPublic, func(*keysNet) any { return master(1, apptest.NewEncryptionKey(t)) }, keysapi.ErrConflict},
		{"payload garbage", nil, gk1, keysapi.TopicMasterPublic, func(*keysNet) any { return []byte{0xff} }, keysapi.ErrInvalid},

		{"master handout to an unregistered node", ready, gk1, keysapi.TopicMasterHandout, func(*keysNet) any { return masterHandout(t, apptest.NewTEENode(t)) }, keysapi.ErrRecipient},
		{"master handout to a worker", ready, gk1, keysapi.TopicMasterHandout, func(n *keysNet) any { return masterHandout(t, n.w1) }, keysapi.ErrRecipient},
		{"master handout to a deactivated gatekeeper", func(n *keysNet) {
			ready(n)
			n.mustAdmin(registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: carol.Addr}, Allowed: false})
			if n.Node(n.gkCarol).Active {
				t.Fatal("carol's gatekeeper still active")
			}
		}, gk1, keysapi.TopicMasterHandout, func(n *keysNet) any { return masterHandout(t, n.gkCarol) }, keysapi.ErrRecipient},
		{"master handout naming a cluster", ready, gk1, keysapi.TopicMasterHandout, func(n *keysNet) any {
			h := masterHandout(t, n.gk2)
			h.Cluster = "c1"
			return h
		}, keysapi.ErrInvalid},
		{"master handout with a broken envelope", ready, gk1, keysapi.TopicMasterHandout, func(n *keysNet) any {
			h := masterHandout(t, n.gk2)
			h.Envelope = h.Envelope[:len(h.Envelope)-1]
			return h
		}, keysapi.ErrEnvelope},
		{"master handout from a worker", ready, w1, keysapi.TopicMasterHandout, func(n *keysNet) any { return masterHandout(t, n.gk2) }, keysapi.ErrNotGatekeeper},

		{"cluster public of an unknown cluster", ready, gk1, keysapi.TopicClusterPublic, func(*keysNet) any {
			return keysapi.ClusterPublic{Cluster: "nope", Generation: 1, PublicKey: pub}
		}, keysapi.ErrUnknownCluster},
		{"cluster public of an unrecorded generation", ready, gk1, keysapi.TopicClusterPublic, func(*keysNet) any {
			return keysapi.ClusterPublic{Cluster: "c1", Generation: 2, PublicKey: pub}
		}, keysapi.ErrGeneration},
		{"cluster public before any master key", func(n *keysNet) { n.mustAdmin(keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "c1"}) }, gk1, keysapi.TopicClusterPublic, func(*keysNet) any {
			return keysapi.ClusterPublic{Cluster: "c1", Generation: 1, PublicKey: pub}
		}, keysapi.ErrGeneration},
		{"cluster public conflicting", ready, gk2, keysapi.TopicClusterPublic, func(*keysNet) any {
			return keysapi.ClusterPublic{Cluster: "c1", Generation: 1, PublicKey: apptest.NewEncryptionKey(t)}
		}, keysapi.ErrConflict},

		{"cluster handout to an unassigned worker", func(n *keysNet) {
			ready(n)
			n.spare = n.Register(alice, registryapi.RoleWorker)
		}, gk1, keysapi.TopicClusterHandout, func(n *keysNet) any { return clusterHandout(t, "c1", n.spare) }, keysapi.ErrRecipient},
		{"cluster handout to an unregistered node", ready, gk1, keysapi.TopicClusterHandout, func(n *keysNet) any { return clusterHandout(t, "c1", apptest.NewTEENode(t)) }, keysapi.ErrRecipient},
		{"cluster handout to a worker of another cluster", ready, gk1, keysapi.TopicClusterHandout, func(n *keysNet) any { return clusterHandout(t, "c1", n.w2) }, keysapi.ErrRecipient},
		{"cluster handout to a gatekeeper", ready, gk1, keysapi.TopicClusterHandout, func(n *keysNet) any { return clusterHandout(t, "c1", n.gk2) }, keysapi.ErrRecipient},
		{"cluster handout to a deactivated worker", func(n *keysNet) {
			ready(n)
			// A policy change deactivates every node; only the gatekeeper
			// re-attests.
			n.mustAdmin(registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, Sim: []attest.Hex{make([]byte, 32)}}})
			n.mustAdmin(registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true}})
			bob := apptest.Bob
			n.MustSucceed(n.Tx(bob, registryapi.MethodRegister, n.SimRegistration(n.gk1, bob, registryapi.RoleGatekeeper)))
		}, gk1, keysapi.TopicClusterHandout, func(n *keysNet) any { return clusterHandout(t, "c1", n.w1) }, keysapi.ErrRecipient},
		{"cluster handout naming no cluster", ready, gk1, keysapi.TopicClusterHandout, func(n *keysNet) any { return clusterHandout(t, "", n.w1) }, keysapi.ErrInvalid},

		{"contract public not requested", ready, gk1, keysapi.TopicContractPublic, func(*keysNet) any {
			return keysapi.ContractPublic{Cluster: "c1", Contract: []byte{2}, Generation: 1, PublicKey: pub}
		}, keysapi.ErrUnknownContract},
		{"contract public requested in another cluster", ready, gk1, keysapi.TopicContractPublic, func(n *keysNet) any {
			return keysapi.ContractPublic{Cluster: "c2", Contract: n.contract, Generation: 1, PublicKey: pub}
		}, keysapi.ErrUnknownContract},
		{"contract public of an unrecorded generation", ready, gk1, keysapi.TopicContractPublic, func(n *keysNet) any {
			return keysapi.ContractPublic{Cluster: "c1", Contract: n.contract, Generation: 2, PublicKey: pub}
		}, keysapi.ErrGeneration},
		{"contract public conflicting", func(n *keysNet) {
			ready(n)
			n.mustAccept(n.gk1, keysapi.TopicContractPublic, keysapi.ContractPublic{Cluster: "c1", Contract: n.contract, Generation: 1, PublicKey: pub})
		}, gk2, keysapi.TopicContractPublic, func(n *keysNet) any {
			return keysapi.ContractPublic{Cluster: "c1", Contract: n.contract, Generation: 1, PublicKey: apptest.NewEncryptionKey(t)}
		}, keysapi.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newKeysNet(t)
			if tc.setup != nil {
				tc.setup(n)
			}
			from := tc.from(n)
			kept, seq := n.keysState(), n.EgressSeq(from)
			r := n.send(from, tc.topic, tc.payload(n))
			if got := apptest.Rejection(r.Events); !errors.Is(got, tc.want) {
				t.Fatalf("rejection %v, want %v (events %v)", got, tc.want, r.Events)
			}
			if apptest.HasEvent(r.Events, mq.EventAccepted) {
				t.Fatal("both accepted and rejected")
			}
			if rep := n.Republished(n.Height); n.EgressSeq(from) != seq+1 || len(rep) != 1 || rep[0].Outcome != mq.OutcomeRefused {
				t.Fatalf("the rejected message did not use its sequence or was not republished as refused: %+v", rep)
			}
			if now := n.keysState(); now != kept {
				t.Fatalf("a rejected message changed the keys state:\n%s\nthen\n%s", kept, now)
			}
			t.Logf("rejected: %v", apptest.Rejection(r.Events))
		})
	}
}

func gk1(n *keysNet) apptest.TEENode { return n.gk1 }
func gk2(n *keysNet) apptest.TEENode { return n.gk2 }
func w1(n *keysNet) apptest.TEENode  { return n.w1 }

// TestKeysLifecycle walks the whole record: the first generation, a
// hand-over, a cluster with its worker and key, a contract key, a rotation;
// the queries show what was recorded and the supply never moves.
func TestKeysLifecycle(t *testing.T) {
	n := newKeysNet(t)
	gen1, gen2, c1, k1 := apptest.NewEncryptionKey(t), apptest.NewEncryptionKey(t), apptest.NewEncryptionKey(t), apptest.NewEncryptionKey(t)

	n.mustAccept(n.gk1, keysapi.TopicMasterPublic, keysapi.MasterPublic{Generation: 1, PublicKey: gen1})
	// The fact comes first, then the republication that says the egress
	// was accepted: the mq module republishes once the module decided.
	if topics := n.messageTopics(); !slices.Equal(topics, []string{keysapi.TopicMasterRecorded, mq.TopicEgress}) || n.Republished(n.Height)[0].Outcome != mq.OutcomeAccepted {
		t.Fatalf("messages after the master public: %v", topics)
	}
	// The other gatekeepers' identical copies count once, and are
	// republished as such, so their senders see their sequence used.
	if r := n.send(n.gk2, keysapi.TopicMasterPublic, keysapi.MasterPublic{Generation: 1, PublicKey: gen1}); !apptest.HasEvent(r.Events, mq.EventDuplicateContent) {
		t.Fatalf("identical copy: %v", r.Events)
	}
	if rep := n.Republished(n.Height); len(rep) != 1 || rep[0].Outcome != mq.OutcomeDuplicate || len(n.messageTopics()) != 1 {
		t.Fatalf("identical copy republished as %+v among %v", rep, n.messageTopics())
	}
	if m := n.master(); m.Newest != 1 || m.Pending != 0 || len(m.Publics) != 1 || !bytes.Equal(m.Publics[0].PublicKey, gen1) {
		t.Fatalf("after generation 1: %+v", m)
	}

	handout := masterHandout(t, n.gk2)
	n.mustAccept(n.gk1, keysapi.TopicMasterHandout, handout)
	if got := n.republishedPayload(keysapi.TopicMasterHandout); !bytes.Equal(got, codec.MustMarshal(handout)) {
		t.Fatal("the hand-out was not republished for its recipient")
	}
	var ho keysapi.Handouts
	if err := n.Query(keysapi.QueryHandouts, n.gk2.Pub(), &ho); err != nil || ho.Master.Count != 1 || ho.Master.Generation != 1 || ho.Master.Height != n.Height {
		t.Fatalf("hand-out record %+v (%v)", ho, err)
	}

	n.mustAdmin(keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "default"})
	var ev keysapi.ClusterEvent
	if err := codec.Unmarshal(n.Published(keysapi.TopicCluster)[0], &ev); err != nil || ev.Cluster != "default" || ev.Worker != nil {
		t.Fatalf("creation event %+v (%v)", ev, err)
	}
	n.mustAdmin(keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "default", Worker: n.w1.Pub()})
	if err := codec.Unmarshal(n.Published(keysapi.TopicCluster)[0], &ev); err != nil || !bytes.Equal(ev.Worker, n.w1.Pub()) || !bytes.Equal(ev.EncryptionKey, n.w1.Encryption) {
		t.Fatalf("assignment event %+v (%v)", ev, err)
	}
	n.mustAccept(n.gk1, keysapi.TopicClusterPublic, keysapi.ClusterPublic{Cluster: "default", Generation: 1, PublicKey: c1})
	n.mustAccept(n.gk1, keysapi.TopicClusterHandout, clusterHandout(t, "default", n.w1))
	c := n.cluster("default")
	if len(c.Workers) != 1 || !bytes.Equal(c.Workers[0], n.w1.Pub()) || len(c.Publics) != 1 || !bytes.Equal(c.Publics[0].PublicKey, c1) {
		t.Fatalf("cluster %+v", c)
	}

	contract := n.instantiate("default", 0)
	n.mustAccept(n.gk2, keysapi.TopicContractPublic, keysapi.ContractPublic{Cluster: "default", Contract: contract, Generation: 1, PublicKey: k1})
	var cps []keysapi.ContractPublic
	q := codec.MustMarshal(keysapi.ContractQuery{Cluster: "default", Contract: contract})
	if err := n.Query(keysapi.QueryContract, q, &cps); err != nil || len(cps) != 1 || !bytes.Equal(cps[0].PublicKey, k1) {
		t.Fatalf("contract keys %+v (%v)", cps, err)
	}

	n.mustAdmin(keysapi.MethodRotate, keysapi.Rotate{})
	var rot keysapi.Rotation
	if err := codec.Unmarshal(n.Published(keysapi.TopicRotation)[0], &rot); err != nil || rot.Generation != 2 {
		t.Fatalf("rotation %+v (%v)", rot, err)
	}
	if m := n.master(); m.Pending != 2 || m.Newest != 1 {
		t.Fatalf("while rotating: %+v", m)
	}
	n.mustAccept(n.gk2, keysapi.TopicMasterPublic, keysapi.MasterPublic{Generation: 2, PublicKey: gen2})
	n.mustAccept(n.gk2, keysapi.TopicClusterPublic, keysapi.ClusterPublic{Cluster: "default", Generation: 2, PublicKey: apptest.NewEncryptionKey(t)})
	m := n.master()
	if m.Newest != 2 || m.Pending != 0 || len(m.Publics) != 2 || !bytes.Equal(m.Publics[0].PublicKey, gen1) || !bytes.Equal(m.Publics[1].PublicKey, gen2) {
		t.Fatalf("after rotation: %+v", m)
	}
	var all []keysapi.ClusterInfo
	if err := n.Query(keysapi.QueryClusters, nil, &all); err != nil || len(all) != 1 || len(all[0].Publics) != 2 {
		t.Fatalf("clusters %+v (%v)", all, err)
	}
	if err := n.Query(keysapi.QueryCluster, []byte("nope"), &c); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("unknown cluster query: %v", err)
	}
	if err := bank.CheckSupply(n.App.Store()); err != nil {
		t.Fatal(err)
	}
}

// messageTopics are the topics of the newest block's messages, in order.
func (n *keysNet) messageTopics() []string {
	n.T.Helper()
	msgs, err := n.App.Messages(n.Height)
	if err != nil {
		n.T.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Topic)
	}
	return out
}

// republishedPayload is the payload of the newest block's egress on topic
// republished as accepted.
func (n *keysNet) republishedPayload(topic string) []byte {
	for _, r := range n.Republished(n.Height) {
		if e := r.Egress.Egress; e.Topic == topic && r.Outcome == mq.OutcomeAccepted {
			return e.Payload
		}
	}
	return nil
}
