//go:build unix

package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// failFast bounds a devnet start that must be refused: it stops before
// opening any store, so seconds are plenty.
const failFast = 20 * time.Second

// startDevnetOn runs a --no-worker devnet on home with args added (ports),
// as a server named name, and waits until it answers.
func startDevnetOn(t *testing.T, c *cli, name, home string, rpc int, args ...string) *devnet {
	t.Helper()
	d := &devnet{t: t, c: c, home: home, rpc: rpc, noTEE: true}
	all := append([]string{"devnet", "--home", home, "--no-worker", "--output", "json"}, args...)
	d.srv = newServer(t, name, c.env, all...)
	d.start()
	if want := fmt.Sprintf("http://127.0.0.1:%d", rpc); d.info.RPC != want {
		t.Fatalf("%s printed rpc %s, want %s", name, d.info.RPC, want)
	}
	return d
}

// TestDevnetTakenPortThenOtherPort: a first start whose RPC port is taken
// fails naming the port and the flag to change it; starting again on the
// same home with a free --rpc-port works.
func TestDevnetTakenPortThenOtherPort(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := t.TempDir()
	ports := freePorts(t, 3) // p2p, taken rpc, free rpc
	held, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	start := time.Now()
	r := c.run("devnet", "--home", home, "--no-worker", "--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]))
	if r.ok() {
		t.Fatalf("devnet started with its RPC port taken:\n%s", r)
	}
	if !strings.Contains(r.stderr, "rpc port "+strconv.Itoa(ports[1])) || !strings.Contains(r.stderr, "--rpc-port") {
		t.Fatalf("the error does not name rpc port %d and --rpc-port:\n%s", ports[1], r)
	}
	if hasPanic(r.stderr) {
		t.Fatalf("panic:\n%s", r)
	}
	if took := time.Since(start); took > failFast {
		t.Fatalf("refusal took %v", took)
	}

	d := startDevnetOn(t, c, "devnet", home, ports[2], "--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[2]))
	c.waitHeight(d.srv, d.url(), 2, 30*time.Second)
}

// TestDevnetSecondStartOnRunningHome: a second devnet on a running home
// fails fast naming the first's PID, and the first keeps running.
func TestDevnetSecondStartOnRunningHome(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	first := startDevnet(t, c, "--no-worker")
	pid := first.srv.cmd.Process.Pid
	other := freePorts(t, 2)

	start := time.Now()
	r := c.run("devnet", "--home", first.home, "--no-worker", "--p2p-port", strconv.Itoa(other[0]), "--rpc-port", strconv.Itoa(other[1]))
	if r.ok() {
		t.Fatalf("a second devnet started on a running home:\n%s", r)
	}
	want := fmt.Sprintf("devnet already running on %s (pid %d)", first.home, pid)
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr lacks %q:\n%s", want, r)
	}
	if took := time.Since(start); took > failFast {
		t.Fatalf("refusal took %v", took)
	}
	if strings.Contains(r.stderr, "resource temporarily unavailable") {
		t.Fatalf("the second start reached the stores:\n%s", r)
	}

	// The first still runs, commits, and kept its port.
	h := c.mustStatus(first.url()).Height
	c.waitHeight(first.srv, first.url(), h+2, 30*time.Second)
}

// TestDevnetResumeWithOtherPort: a resumed home started with an explicit
// --rpc-port listens there (after its first run was killed, so its lock
// file is left behind but not held), and keeps that port on the next start
// without flags.
func TestDevnetResumeWithOtherPort(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	first := startDevnet(t, c, "--no-worker")
	c.waitHeight(first.srv, first.url(), 2, 30*time.Second)
	first.srv.kill()

	rpc := freePorts(t, 1)[0]
	second := startDevnetOn(t, c, "devnet-moved", first.home, rpc, "--rpc-port", strconv.Itoa(rpc))
	c.waitHeight(second.srv, second.url(), 3, 30*time.Second)
	second.srv.kill()

	third := startDevnetOn(t, c, "devnet-again", first.home, rpc)
	c.waitHeight(third.srv, third.url(), 4, 30*time.Second)
}
