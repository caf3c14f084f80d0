// Package enclavetest runs the enclave's modules on hand-made verified
// blocks, without a chain or a light client: what an enclave does when the
// validators lie is visible only this way, since a real chain refuses what
// the enclave must refuse too. The modules' tests and the loop's use it.
package enclavetest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/enclave/keys"
	"github.com/phala-go/phala/worker/enclave/keystore"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
	"github.com/phala-go/phala/worker/enclave/rewards"
	"github.com/phala-go/phala/worker/lightclient"
	"github.com/phala-go/phala/worker/nodekey"
)

// ChainID is the chain of the hand-made blocks.
const ChainID = "fold-test"

// Keys are a node's keys and operator.
type Keys struct {
	ID  ed25519.PrivateKey
	Enc hpke.PrivateKey
	Op  address.Address
}

// NewKeys derives a node's keys from seed.
func NewKeys(t testing.TB, seed byte) Keys {
	t.Helper()
	enc, err := nodekey.KEM().DeriveKeyPair(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return Keys{ID: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)), Enc: enc, Op: address.Module("op")}
}

// Pub is the identity public key.
func (k Keys) Pub() ed25519.PublicKey { return k.ID.Public().(ed25519.PublicKey) }

// SimQuote is a sim quote of k's keys anchored at block anchor.
func (k Keys) SimQuote(anchor int64) []byte {
	rd := identity.Binding{ChainID: ChainID, AnchorHash: BlockHash(anchor), IdentityKey: k.Pub(), EncryptionKey: k.Enc.PublicKey().Bytes(), Operator: k.Op}.ReportData()
	return attest.SignSimQuote([32]byte{1}, rd)
}

// Event is a registry node event about k.
func (k Keys) Event(kind string, role registryapi.Role, active bool, quote []byte) mq.Message {
	ev := registryapi.NodeEvent{Kind: kind, Quote: quote, Node: registryapi.Node{Role: role, IdentityKey: k.Pub(), EncryptionKey: k.Enc.PublicKey().Bytes(), Operator: k.Op, Active: active}}
	return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
}

// BlockHash is the hash of hand-made block h.
func BlockHash(h int64) []byte {
	s := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h)))
	return s[:]
}

// Block is hand-made final block h carrying msgs.
func Block(h int64, msgs ...mq.Message) lightclient.Final {
	return lightclient.Final{Height: h, Hash: BlockHash(h), Time: time.Unix(1_700_000_000+h, 0).UTC(), Messages: msgs}
}

// Node is an enclave's modules folding hand-made blocks.
type Node struct {
	Keys     Keys
	Machine  *enclave.Machine
	Registry *registryview.Module
	KeyMod   *keys.Module
	Rewards  *rewards.Module // with Options.Rewards
	Keystore *keystore.Keystore
}

// Options change a test node.
type Options struct {
	// Policy is the registry's genesis policy (default: sim allowed).
	Policy *attest.Policy
	// Keystore is an existing keystore to use (default: a fresh one).
	Keystore *keystore.Keystore
	// Secrets wraps the keystore as the machine sees it (default: as is).
	Secrets func(*keystore.Keystore) enclave.Secrets
	Log     *slog.Logger
	// More are modules folded after the registry view and the keys
	// module, given the registry view (modules that read it).
	More func(*registryview.Module) []module.Module
	// Rewards adds the rewards module, started from this config, after
	// the keys module (as the runtime does).
	Rewards *rewards.Config
}

// New is node k with role, at genesis.
func New(t testing.TB, k Keys, role registryapi.Role, o Options) *Node {
	t.Helper()
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	policy := attest.Policy{AllowSim: true}
	if o.Policy != nil {
		policy = *o.Policy
	}
	ks := o.Keystore
	if ks == nil {
		p, err := sim.New(sim.WithDir(t.TempDir()), sim.WithMeasurement([32]byte{1}), sim.WithWarnings(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		if ks, err = keystore.Open(p, filepath.Join(t.TempDir(), keystore.File), ChainID, k.Pub(), o.Log); err != nil {
			t.Fatal(err)
		}
	}
	var secrets enclave.Secrets = ks
	if o.Secrets != nil {
		secrets = o.Secrets(ks)
	}
	reg := registryview.New(registryapi.Genesis{Policy: policy})
	km := keys.New(reg, k.Enc)
	mods := []module.Module{reg, km}
	if o.More != nil {
		mods = append(mods, o.More(reg)...)
	}
	var rw *rewards.Module
	if o.Rewards != nil {
		var err error
		if rw, err = rewards.New(reg, *o.Rewards); err != nil {
			t.Fatal(err)
		}
		reg.AnswerFrom(rw)
		mods = append(mods, rw)
	}
	m, err := enclave.NewMachine(enclave.MachineConfig{ChainID: ChainID, Key: k.ID, Role: role, Modules: mods, Secrets: secrets, Log: o.Log})
	if err != nil {
		t.Fatal(err)
	}
	return &Node{Keys: k, Machine: m, Registry: reg, KeyMod: km, Rewards: rw, Keystore: ks}
}

// Fold folds blocks in order.
func (n *Node) Fold(blocks ...lightclient.Final) {
	for _, b := range blocks {
		n.Machine.Block(b)
	}
}

// State is the node's state.
func (n *Node) State() enclave.State { return n.Machine.State(lightclient.State{ChainID: ChainID}) }

// Hash is the node's state hash.
func (n *Node) Hash() []byte {
	st := n.State()
	return st.Hash()
}

// Sent are the payloads of the outbox on topic.
func (n *Node) Sent(topic string) [][]byte {
	var out [][]byte
	for _, se := range n.Machine.Pending() {
		if se.Egress.Topic == topic {
			out = append(out, se.Egress.Payload)
		}
	}
	return out
}

// Republished is the chain's republication of the outbox's messages on
// topic as accepted, as the mq module publishes them.
func (n *Node) Republished(topic string) []mq.Message {
	var out []mq.Message
	for _, se := range n.Machine.Pending() {
		if se.Egress.Topic == topic {
			out = append(out, EgressMsg(se))
		}
	}
	return out
}

// Recorded is what the chain publishes when it accepts the outbox's
// master and cluster publics: the recorded fact (the keys module publishes
// it while it decides), then the republication.
func (n *Node) Recorded(topic string) []mq.Message {
	var out []mq.Message
	for _, se := range n.Machine.Pending() {
		if se.Egress.Topic != topic {
			continue
		}
		switch topic {
		case keysapi.TopicMasterPublic:
			var mp keysapi.MasterPublic
			if codec.Unmarshal(se.Egress.Payload, &mp) == nil {
				out = append(out, MasterRecorded(mp, se.Egress.Sender))
			}
		case keysapi.TopicClusterPublic:
			out = append(out, mq.Message{Topic: keysapi.TopicClusterRecorded, Payload: se.Egress.Payload})
		}
		out = append(out, EgressMsg(se))
	}
	return out
}

// MasterRecorded is the chain's fact that mp was recorded from sender.
func MasterRecorded(mp keysapi.MasterPublic, sender []byte) mq.Message {
	return mq.Message{Topic: keysapi.TopicMasterRecorded, Payload: codec.MustMarshal(keysapi.MasterRecorded{Generation: mp.Generation, PublicKey: mp.PublicKey, Sender: sender})}
}

// EgressMsg is the chain's republication of an egress message its topic's
// module accepted.
func EgressMsg(se mq.SignedEgress) mq.Message { return mq.Republish(se, mq.OutcomeAccepted) }

// RefusedMsg is the chain's republication of an egress message whose
// sequence number it used up but whose topic's module refused the payload.
func RefusedMsg(se mq.SignedEgress) mq.Message { return mq.Republish(se, mq.OutcomeRefused) }

// DuplicateMsg is the chain's republication of a gatekeeper's copy of
// content already sent, which it did not route.
func DuplicateMsg(se mq.SignedEgress) mq.Message { return mq.Republish(se, mq.OutcomeDuplicate) }
