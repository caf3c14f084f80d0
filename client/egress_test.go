package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/egress"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// TestSubmitEgressOnDevnet relays a sim worker's heartbeats through a real
// node: accepted in order, and a second delivery of the same message comes
// back as egress.ErrDuplicate, which a relay counts as delivered.
func TestSubmitEgressOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cl := startDevnet(t, ctx)
	alice := ed25519.NewKeyFromSeed(keyring.DevSeed("alice"))
	enclave := registerSimWorker(t, ctx, cl, alice)
	sender := enclave.Public().(ed25519.PublicKey)

	for seq := uint64(1); seq <= 2; seq++ {
		last, err := cl.EgressSequence(ctx, sender)
		if err != nil || last != seq-1 {
			t.Fatalf("sequence before %d: %d, %v", seq, last, err)
		}
		anchor, err := cl.Anchor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg := mq.SignEgress(network.DevnetChainID, enclave, mq.Egress{
			Version: mq.EgressVersion, Sender: sender, Seq: seq, Topic: registry.TopicHeartbeat,
			Payload: codec.MustMarshal(registry.Heartbeat{Height: anchor.Height}),
		})
		if _, err := cl.SubmitEgress(ctx, alice, msg); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		if n, err := cl.Node(ctx, sender); err != nil || n.LastHeartbeat != anchor.Height {
			t.Fatalf("seq %d: last heartbeat %d, want %d (%v)", seq, n.LastHeartbeat, anchor.Height, err)
		}
		if _, err := cl.SubmitEgress(ctx, alice, msg); !errors.Is(err, egress.ErrDuplicate) {
			t.Fatalf("seq %d delivered twice: %v", seq, err)
		}
	}
}

func startDevnet(t *testing.T, ctx context.Context) *client.Client {
	t.Helper()
	p2p, err := node.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	rpc, err := node.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	home := node.Home(filepath.Join(t.TempDir(), "home"))
	timing := node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 50 * time.Millisecond, CreateEmptyBlocks: true}
	if err := network.InitDevnet(home, network.DevnetOptions{Ports: node.Ports{P2P: p2p, RPC: rpc}, Timing: timing}); err != nil {
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
	return cl
}

// registerSimWorker registers a fresh sim node operated by op and returns
// its identity key, as its enclave would hold it.
func registerSimWorker(t *testing.T, ctx context.Context, cl *client.Client, op ed25519.PrivateKey) ed25519.PrivateKey {
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
		EncryptionKey: encPub, Operator: network.DevAccounts()[0].Address,
	}.ReportData()
	_, err = cl.Register(ctx, op, registry.Register{
		Role: registry.RoleWorker, IdentityKey: pub, EncryptionKey: encPub,
		AnchorHeight: anchor.Height, Quote: attest.SignSimQuote([32]byte{7, 7, 7}, rd),
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return key
}
