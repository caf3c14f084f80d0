package node

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestCheckPortsFreeNamesTakenPort: the error says which port is taken.
func TestCheckPortsFreeNamesTakenPort(t *testing.T) {
	ports := freePorts(t)
	if err := CheckPortsFree(ports); err != nil {
		t.Fatalf("free ports reported taken: %v", err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports.RPC)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = CheckPortsFree(ports)
	var inUse *PortInUseError
	if !errors.As(err, &inUse) || inUse.Name != "rpc" || inUse.Port != ports.RPC {
		t.Fatalf("got %v, want the rpc port %d reported in use", err, ports.RPC)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(ports.RPC)) {
		t.Fatalf("error %q does not name port %d", err, ports.RPC)
	}
}

// TestStartReportsTakenPort: Start names the taken port before opening anything.
func TestStartReportsTakenPort(t *testing.T) {
	home := initTestHome(t, `{}`)
	ports, err := ListenPorts(home)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports.P2P)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n, err := Start(t.Context(), home, &testApp{})
	if err == nil {
		_ = n.Stop()
		t.Fatal("Start succeeded with the P2P port taken")
	}
	var inUse *PortInUseError
	if !errors.As(err, &inUse) || inUse.Name != "p2p" || inUse.Port != ports.P2P {
		t.Fatalf("got %v, want the p2p port %d reported in use", err, ports.P2P)
	}
}

// TestSetListenPorts: given ports replace the home's, zero keeps one, the
// host stays, and equal ports are refused.
func TestSetListenPorts(t *testing.T) {
	home := initTestHome(t, `{}`)
	before, err := ListenPorts(home)
	if err != nil {
		t.Fatal(err)
	}
	newRPC, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := SetListenPorts(home, Ports{RPC: newRPC}); err != nil {
		t.Fatal(err)
	}
	after, err := ListenPorts(home)
	if err != nil {
		t.Fatal(err)
	}
	if after != (Ports{P2P: before.P2P, RPC: newRPC}) {
		t.Fatalf("ports after setting rpc %d: %+v (before %+v)", newRPC, after, before)
	}
	c, err := loadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if want := "tcp://127.0.0.1:" + strconv.Itoa(newRPC); c.RPC.ListenAddress != want {
		t.Fatalf("rpc.laddr %q, want %q", c.RPC.ListenAddress, want)
	}
	if err := SetListenPorts(home, Ports{P2P: newRPC}); err == nil {
		t.Fatal("setting the p2p port to the rpc port was accepted")
	}
}
