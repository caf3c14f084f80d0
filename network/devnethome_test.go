package network

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/phala-go/phala/node"
)

func freeDevPorts(t *testing.T) node.Ports {
	t.Helper()
	p, err := node.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCreateDevnetMakesHome: a completed layout is made and keeps no marker.
func TestCreateDevnetMakesHome(t *testing.T) {
	home := node.Home(filepath.Join(t.TempDir(), "devnet"))
	if DevnetMade(home) {
		t.Fatal("an absent home counts as made")
	}
	if err := CreateDevnet(home, DevnetOptions{Ports: freeDevPorts(t)}); err != nil {
		t.Fatal(err)
	}
	if !DevnetMade(home) {
		t.Fatal("home not made after CreateDevnet")
	}
	if entries, err := os.ReadDir(KeyringDir(home)); err != nil || len(entries) == 0 {
		t.Fatalf("no development keys in %s (%v)", KeyringDir(home), err)
	}
	if err := CreateDevnet(home, DevnetOptions{Ports: freeDevPorts(t)}); err == nil {
		t.Fatal("CreateDevnet overwrote a made home")
	}
}

// TestCreateDevnetTakenPortWritesNothing: a taken port fails before the
// layout, naming the port, so no home is left with it.
func TestCreateDevnetTakenPortWritesNothing(t *testing.T) {
	home := node.Home(filepath.Join(t.TempDir(), "devnet"))
	ports := freeDevPorts(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports.RPC)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = CreateDevnet(home, DevnetOptions{Ports: ports})
	var inUse *node.PortInUseError
	if !errors.As(err, &inUse) || inUse.Port != ports.RPC {
		t.Fatalf("got %v, want rpc port %d in use", err, ports.RPC)
	}
	if home.Exists() || DevnetMade(home) {
		t.Fatal("a failed creation left a home")
	}
}

// TestHalfMadeHomeIsRedone: a home whose layout was interrupted (marker
// still there, config written, keys missing) is not made, and the next
// CreateDevnet lays it out again with the new ports.
func TestHalfMadeHomeIsRedone(t *testing.T) {
	home := node.Home(filepath.Join(t.TempDir(), "devnet"))
	if err := CreateDevnet(home, DevnetOptions{Ports: freeDevPorts(t)}); err != nil {
		t.Fatal(err)
	}
	// Simulate the interruption: the marker back, the keys gone.
	if err := os.WriteFile(markerPath(home), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(KeyringDir(home)); err != nil {
		t.Fatal(err)
	}
	if DevnetMade(home) {
		t.Fatal("a home with the incomplete marker counts as made")
	}
	ports := freeDevPorts(t)
	if err := CreateDevnet(home, DevnetOptions{Ports: ports}); err != nil {
		t.Fatalf("redoing the half-made home: %v", err)
	}
	if !DevnetMade(home) {
		t.Fatal("home not made after redoing it")
	}
	got, err := node.ListenPorts(home)
	if err != nil {
		t.Fatal(err)
	}
	if got != ports {
		t.Fatalf("redone home listens on %+v, want %+v", got, ports)
	}
	if entries, err := os.ReadDir(KeyringDir(home)); err != nil || len(entries) == 0 {
		t.Fatalf("redone home has no development keys (%v)", err)
	}
}
