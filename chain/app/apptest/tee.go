package apptest

import (
	"crypto/ed25519"
	"testing"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/identity"
)

// TEENode is a node's keys as its enclave would hold them.
type TEENode struct {
	Identity   ed25519.PrivateKey
	Encryption []byte // public
}

// NewTEENode is a node with fresh keys, registered nowhere.
func NewTEENode(t testing.TB) TEENode {
	t.Helper()
	_, id, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return TEENode{Identity: id, Encryption: NewEncryptionKey(t)}
}

// NewEncryptionKey is a fresh public key of the suite that nodes,
// clusters and contracts encrypt to.
func NewEncryptionKey(t testing.TB) []byte {
	t.Helper()
	k, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

// Pub is the node's identity key, which names it on chain.
func (n TEENode) Pub() []byte { return n.Identity.Public().(ed25519.PublicKey) }

// SimMeasurement is the enclave measurement of every sim quote here.
var SimMeasurement = [32]byte{7, 7, 7}

// SimRegistration is a register body whose sim quote binds n's keys to
// operator at the newest block.
func (c *Chain) SimRegistration(n TEENode, operator Account, role registryapi.Role) registryapi.Register {
	c.T.Helper()
	anchor, ok, err := c.App.Store().BlockHash(c.Height)
	if err != nil || !ok {
		c.T.Fatalf("no anchor at %d: %v", c.Height, err)
	}
	rd := identity.Binding{ChainID: ChainID, AnchorHash: anchor, IdentityKey: n.Pub(), EncryptionKey: n.Encryption, Operator: operator.Addr}.ReportData()
	return registryapi.Register{Role: role, IdentityKey: n.Pub(), EncryptionKey: n.Encryption, AnchorHeight: c.Height, Quote: attest.SignSimQuote(SimMeasurement, rd)}
}

// Register admits a fresh sim node operated by op, in a block of its own.
// A gatekeeper needs op to hold a grant.
func (c *Chain) Register(op Account, role registryapi.Role) TEENode {
	c.T.Helper()
	n := NewTEENode(c.T)
	c.MustSucceed(c.Tx(op, registryapi.MethodRegister, c.SimRegistration(n, op, role)))
	return n
}

// Node is the registry's record of n.
func (c *Chain) Node(n TEENode) registryapi.Node {
	c.T.Helper()
	var out registryapi.Node
	if err := c.Query(registryapi.QueryNode, n.Pub(), &out); err != nil {
		c.T.Fatalf("node query: %v", err)
	}
	return out
}
