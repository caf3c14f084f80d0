package relay

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/worker/enclave"
)

// TestRelayReportsAForeignOperator: a relay whose operator is not the one
// its runtime is pinned to gets no evidence, and once someone else (here
// the pinned operator, alice) registers the runtime, the relay's
// foreign-operator alarm goes up.
func TestRelayReportsAForeignOperator(t *testing.T) {
	d := startDevnet(t)
	w := startWorker(t, d, t.TempDir()) // pinned to alice
	r := startRelayAs(t, d, w, devKey("bob"))

	alice := devKey("alice")
	eventually(t, 60*time.Second, "the runtime to verify a block", func() (bool, string) {
		return w.rt.Status().Height > 0, "height 0"
	})
	bob := address.FromPublicKey(devKey("bob").Public().(ed25519.PublicKey))
	if _, err := w.client().Evidence(t.Context(), bob); !errors.Is(err, enclave.ErrOperator) {
		t.Fatalf("evidence for bob from a runtime pinned to alice: %v, want %v", err, enclave.ErrOperator)
	}
	ev, err := w.rt.Evidence(address.FromPublicKey(alice.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	// The runtime may anchor to a block the application has not executed
	// yet (CometBFT serves blocks first): such a registration is refused as
	// not yet executed, and a retry succeeds.
	eventually(t, 60*time.Second, "alice's registration", func() (bool, string) {
		inc, err := d.client(t).Register(t.Context(), alice, Registration(ev, attest.Collateral{}))
		if err == nil {
			err = inc.Err()
		}
		if err != nil && !errors.Is(err, registryapi.ErrStaleAnchor) {
			t.Fatalf("register under alice: %v", err)
		}
		return err == nil, fmt.Sprint(err)
	})
	eventually(t, 60*time.Second, "the relay to report the foreign operator", func() (bool, string) {
		return metricSum(t, r.relay.Metrics(), "phala_relay_runtime_foreign_operator") == 1, "gauge 0"
	})
	if got := metricLabeled(t, r.relay.Metrics(), "phala_relay_registration_attempts_total", "outcome", "ok"); got != 0 {
		t.Fatalf("bob's relay registered the runtime %v times", got)
	}
}
