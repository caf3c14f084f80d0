// Package devnettest starts in-process development networks for tests and
// registers sim TEE nodes on them the way an operator's client would, so
// that tests across the tree exercise a real CometBFT node without each
// repeating the set-up.
package devnettest

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// Timing is fast enough for tests and slow enough for two loaded cores.
var Timing = node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 50 * time.Millisecond, CreateEmptyBlocks: true}

// Start lays out a devnet in a temporary home on free ports, starts its
// validator, and stops it when the test ends.
func Start(t testing.TB, ctx context.Context) (*network.Validator, *client.Client) {
	t.Helper()
	ports, err := node.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	home := node.Home(filepath.Join(t.TempDir(), "home"))
	if err := network.InitDevnet(home, network.DevnetOptions{Ports: ports, Timing: Timing}); err != nil {
		t.Fatal(err)
	}
	v, err := network.Start(ctx, home, slog.New(slog.NewTextHandler(io.Discard, nil)), node.WithLogLevel("error"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := v.Stop(); err != nil {
			t.Errorf("stop devnet: %v", err)
		}
	})
	cl, err := client.New(v.Node.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	return v, cl
}

// DevKey is a development account's key.
func DevKey(name string) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(keyring.DevSeed(name)) }

// SimNode is a TEE node's keys, as its enclave would hold them.
type SimNode struct {
	Identity   ed25519.PrivateKey
	Encryption hpke.PrivateKey
	Included   client.Included // the registration's block
}

// RegisterSimNode makes fresh node keys and registers them with a sim
// quote that binds them, the operator and the newest block.
func RegisterSimNode(t testing.TB, ctx context.Context, cl *client.Client, operator ed25519.PrivateKey, role registryapi.Role) SimNode {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := hpke.MLKEM768X25519().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := cl.FirstAnchor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	encPub := enc.PublicKey().Bytes()
	rd := identity.Binding{
		ChainID: network.DevnetChainID, AnchorHash: anchor.Hash, IdentityKey: pub,
		EncryptionKey: encPub, Operator: address.FromPublicKey(operator.Public().(ed25519.PublicKey)),
	}.ReportData()
	inc, err := cl.Register(ctx, operator, registryapi.Register{
		Role: role, IdentityKey: pub, EncryptionKey: encPub,
		AnchorHeight: anchor.Height, Quote: attest.SignSimQuote([32]byte{7, 7, 7}, rd),
	})
	if err != nil {
		t.Fatalf("register a sim %s: %v", role, err)
	}
	return SimNode{Identity: key, Encryption: enc, Included: inc}
}
