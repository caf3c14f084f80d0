package enclave

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/phala-go/phala/crypto/address"
)

func addrOf(name string) address.Address {
	return address.FromPublicKey(devKey(name).Public().(ed25519.PublicKey))
}

// TestOperatorPinned: the first start pins its operator; evidence for
// anyone else is refused, a later start may omit the operator but not
// change it, and the pin survives restarts.
func TestOperatorPinned(t *testing.T) {
	c := chain(t)
	simDir, home := t.TempDir(), t.TempDir()
	open := func(op address.Address) (*Runtime, error) {
		return Open(Config{Home: home, Genesis: c.doc, Platform: newSim(t, simDir, 1), Operator: op})
	}
	rt, err := open(addrOf("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Evidence(addrOf("bob")); !errors.Is(err, ErrOperator) {
		t.Fatalf("evidence for another operator: %v, want %v", err, ErrOperator)
	}
	c.feed(t, rt, c.tip())
	if _, err := rt.Evidence(addrOf("bob")); !errors.Is(err, ErrOperator) {
		t.Fatalf("evidence for another operator with an anchor: %v, want %v", err, ErrOperator)
	}
	if _, err := rt.Evidence(addrOf("alice")); err != nil {
		t.Fatalf("evidence for the pinned operator: %v", err)
	}
	if _, ok := rt.LastEvidence(); !ok {
		t.Fatal("no evidence recorded")
	}
	rt.Close()

	if _, err := open(addrOf("bob")); !errors.Is(err, ErrOperator) {
		t.Fatalf("restart with another operator: %v, want %v", err, ErrOperator)
	}
	rt, err = open(address.Address{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.Operator() != addrOf("alice") {
		t.Fatalf("restarted pinned to %s, want alice", rt.Operator())
	}
	if _, err := rt.Evidence(addrOf("bob")); !errors.Is(err, ErrOperator) {
		t.Fatalf("after a restart, evidence for another operator: %v", err)
	}
}

// TestOperatorPinCannotBeEdited: the pin is sealed and bound to the node,
// so neither a hand-written file nor another node's sealed pin (same
// enclave, same sealing key) changes it.
func TestOperatorPinCannotBeEdited(t *testing.T) {
	c := chain(t)
	simDir := t.TempDir()
	open := func(home string, op address.Address) (*Runtime, error) {
		return Open(Config{Home: home, Genesis: c.doc, Platform: newSim(t, simDir, 1), Operator: op})
	}
	mine, theirs := t.TempDir(), t.TempDir()
	for home, op := range map[string]address.Address{mine: addrOf("alice"), theirs: addrOf("bob")} {
		rt, err := open(home, op)
		if err != nil {
			t.Fatal(err)
		}
		rt.Close()
	}
	pin := filepath.Join(mine, OperatorFile)
	foreign, err := os.ReadFile(filepath.Join(theirs, OperatorFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"another node's pin": foreign, "plain text": []byte(addrOf("bob").String())} {
		if err := os.WriteFile(pin, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := open(mine, address.Address{}); !errors.Is(err, ErrOperator) {
			t.Fatalf("%s: %v, want %v", name, err, ErrOperator)
		}
	}
}

// TestNoOperatorNoEvidence: a runtime started without an operator (an
// older home) gives no evidence to anyone.
func TestNoOperatorNoEvidence(t *testing.T) {
	c := chain(t)
	rt, err := Open(Config{Home: t.TempDir(), Genesis: c.doc, Platform: newSim(t, t.TempDir(), 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c.feed(t, rt, c.tip())
	if _, err := rt.Evidence(addrOf("alice")); !errors.Is(err, ErrNoOperator) {
		t.Fatalf("evidence without a pinned operator: %v, want %v", err, ErrNoOperator)
	}
}
