//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// phalaBin is the binary built once by TestMain.
var phalaBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "phala-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	phalaBin, err = buildPhala(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildPhala runs `go build -o dir/phala ./cmd/phala` in the module root.
func buildPhala(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "phala")
	cmd := exec.Command(goTool(), "build", "-o", bin, "./cmd/phala")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building ./cmd/phala in %s: %v\n%s", root, err, out)
	}
	return bin, nil
}

// moduleRoot walks up from the working directory (the package directory
// under go test) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the phala binary")
	}
}

// Amounts and constants of a development network.
const (
	devPassphrase = "devnet"
	totalSupply   = "1000000000000000000000" // 10^9 PHA in base units
)

var onePHA = big.NewInt(1_000_000_000_000)

// ---------------------------------------------------------------------------
// Ports

// freePorts returns n distinct TCP ports of 127.0.0.1 that the OS reports
// free. The listeners are held open together so the ports differ, then closed
// for the process under test to take.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// freePortRange finds n consecutive free ports and returns the first. It
// probes bases below the kernel's ephemeral range, so outgoing connections
// made while the network starts cannot take one of them; if that fails it
// probes around ports the OS hands out.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	lo := ephemeralLow()
	for range 200 {
		var base int
		if lo-n > 10000 {
			base = 10000 + rand.IntN(lo-n-10000)
		} else {
			p := freePorts(t, 1)[0]
			base = p
		}
		if tryBind(base, n) {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports found", n)
	return 0
}

// tryBind reports whether base..base+n-1 can all be listened on now.
func tryBind(base, n int) bool {
	if base < 1 || base+n-1 > 65535 {
		return false
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for p := base; p < base+n; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		ls = append(ls, l)
	}
	return true
}

func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	v, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return v
}

// ---------------------------------------------------------------------------
// Processes

// groupAttr starts a child in its own process group, so killing the group
// kills the child and anything it spawned.
func groupAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(a)
	return a
}

func killGroup(p *os.Process) error {
	if p == nil {
		return nil
	}
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// server is a long-running phala process (devnet or node) that a test can
// SIGKILL and start again. Its stdout and stderr go to files in the test's
// temp dir; stderr is printed if the test fails.
type server struct {
	t    *testing.T
	name string
	args []string
	env  []string
	dir  string // where the output files go

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current run has been reaped
	runErr error
	starts int
	stdout string // stdout file of the current run
}

// newServer prepares a process; start runs it. Every run is killed and
// reaped in t.Cleanup; the stderr of all runs is printed if the test failed.
func newServer(t *testing.T, name string, env []string, args ...string) *server {
	t.Helper()
	s := &server{t: t, name: name, args: args, env: env, dir: t.TempDir()}
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpStderr()
		}
		s.checkNoPanic()
	})
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) stderrPath() string { return filepath.Join(s.dir, s.name+".stderr") }

// start launches a new run of the process.
func (s *server) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		select {
		case <-s.done:
		default:
			s.t.Fatalf("%s: start while still running", s.name)
		}
	}
	s.starts++
	errf, err := os.OpenFile(s.stderrPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(errf, "=== %s run %d: phala %s\n", s.name, s.starts, strings.Join(s.args, " "))
	s.stdout = filepath.Join(s.dir, fmt.Sprintf("%s.%d.stdout", s.name, s.starts))
	outf, err := os.Create(s.stdout)
	if err != nil {
		errf.Close()
		s.t.Fatal(err)
	}
	cmd := exec.Command(phalaBin, s.args...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = outf, errf
	cmd.SysProcAttr = groupAttr()
	err = cmd.Start()
	// The child holds its own copies of the descriptors.
	outf.Close()
	errf.Close()
	if err != nil {
		s.t.Fatalf("starting %s: %v", s.name, err)
	}
	done := make(chan struct{})
	s.cmd, s.done, s.runErr = cmd, done, nil
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.runErr = err
		s.mu.Unlock()
		close(done)
	}()
}

// kill sends SIGKILL to the process group and waits until it is reaped (the
// stores' file locks and the ports are free again once it returns).
func (s *server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := killGroup(cmd.Process); err != nil {
		s.t.Errorf("killing %s: %v", s.name, err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.t.Errorf("%s did not exit 30s after SIGKILL", s.name)
	}
}

// exited reports whether the current run ended, and how.
func (s *server) exited() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		return false, nil
	}
	select {
	case <-s.done:
		return true, s.runErr
	default:
		return false, nil
	}
}

// checkAlive fails the test at once if the process ended on its own.
func (s *server) checkAlive() error {
	if gone, err := s.exited(); gone {
		return fmt.Errorf("%s exited (%v); stderr:\n%s", s.name, err, s.stderrTail())
	}
	return nil
}

func (s *server) stdoutText() string {
	s.mu.Lock()
	path := s.stdout
	s.mu.Unlock()
	b, _ := os.ReadFile(path)
	return string(b)
}

func (s *server) stderrText() string {
	b, _ := os.ReadFile(s.stderrPath())
	return string(b)
}

func (s *server) stderrTail() string {
	txt := s.stderrText()
	const max = 4000
	if len(txt) > max {
		txt = "..." + txt[len(txt)-max:]
	}
	return txt
}

func (s *server) dumpStderr() {
	s.t.Logf("---- stderr of %s (%s) ----\n%s---- end of %s ----", s.name, s.stderrPath(), s.stderrTail(), s.name)
}

// checkNoPanic fails the test if the process ever printed a Go panic.
func (s *server) checkNoPanic() {
	if txt := s.stderrText(); hasPanic(txt) {
		s.t.Errorf("%s printed a Go panic:\n%s", s.name, txt)
	}
}

// logTail prints the end of a log file (a node's cometbft.log).
func logTail(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("no log %s: %v", path, err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	t.Logf("---- last lines of %s ----\n%s", path, strings.Join(lines, "\n"))
}

func hasPanic(s string) bool {
	return strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ")
}

// ---------------------------------------------------------------------------
// CLI runs

// cli runs one-shot phala commands with an environment isolated from the
// user's (PHALA_HOME and HOME point into the test's temp dir).
type cli struct {
	t         *testing.T
	env       []string
	phalaHome string // PHALA_HOME: the default keyring is its keys/
}

func newCLI(t *testing.T) *cli {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PHALA_PASSPHRASE" || k == "PHALA_HOME" || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	phalaHome := filepath.Join(home, "phala")
	env = append(env, "PHALA_HOME="+phalaHome, "HOME="+home)
	// Contract builds keep the Go caches of the user running the tests:
	// with HOME moved they would build the standard library for wasm
	// again in every test (tens of seconds on two cores).
	env = append(env, goCaches()...)
	return &cli{t: t, env: env, phalaHome: phalaHome}
}

// goCaches are GOCACHE and GOMODCACHE as the go command running the tests
// resolves them.
var goCaches = sync.OnceValue(func() []string {
	out, err := exec.Command(goTool(), "env", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] == "" || lines[1] == "" {
		return nil
	}
	return []string{"GOCACHE=" + lines[0], "GOMODCACHE=" + lines[1]}
})

// withEnv returns the environment plus extra KEY=VALUE entries.
func (c *cli) withEnv(extra ...string) []string {
	return append(append([]string(nil), c.env...), extra...)
}

// result is how one command ended.
type result struct {
	args           []string
	stdout, stderr string
	code           int   // exit code; -1 if it did not exit normally
	err            error // from exec: not started, killed, ...
}

func (r result) ok() bool { return r.err == nil && r.code == 0 }

func (r result) String() string {
	return fmt.Sprintf("phala %s: exit %d (%v)\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.err, r.stdout, r.stderr)
}

// cmdTimeout bounds any one-shot command; none should come close.
const cmdTimeout = 90 * time.Second

// runCtx runs phala with args until it exits or ctx ends (then its process
// group is killed). It is safe to call from any goroutine.
func (c *cli) runCtx(ctx context.Context, env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	return c.runLong(ctx, env, args...)
}

// runLong is runCtx bounded by ctx alone, for the few commands that may
// take longer than cmdTimeout (a whole demo).
func (c *cli) runLong(ctx context.Context, env []string, args ...string) result {
	cmd := exec.CommandContext(ctx, phalaBin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String(), code: -1}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		r.err = err
	}
	if ctx.Err() != nil {
		r.err = ctx.Err()
	}
	return r
}

func (c *cli) run(args ...string) result {
	return c.runCtx(context.Background(), c.env, args...)
}

// mustJSON runs a command that must succeed and decodes its JSON stdout.
func (c *cli) mustJSON(v any, args ...string) {
	c.t.Helper()
	r := c.run(args...)
	if err := r.decode(v); err != nil {
		c.t.Fatal(err)
	}
}

// mustJSONEnv is mustJSON with extra environment variables.
func (c *cli) mustJSONEnv(v any, extraEnv []string, args ...string) {
	c.t.Helper()
	r := c.runCtx(context.Background(), c.withEnv(extraEnv...), args...)
	if err := r.decode(v); err != nil {
		c.t.Fatal(err)
	}
}

// decode checks the command succeeded and decodes its stdout.
func (r result) decode(v any) error {
	if !r.ok() {
		return fmt.Errorf("command failed: %s", r)
	}
	if hasPanic(r.stderr) {
		return fmt.Errorf("command printed a panic: %s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		return fmt.Errorf("decoding the output of phala %s: %v\n%s", strings.Join(r.args, " "), err, r.stdout)
	}
	return nil
}

// ---------------------------------------------------------------------------
// The CLI's JSON outputs

type statusJSON struct {
	ChainID    string `json:"chain_id"`
	NodeID     string `json:"node_id"`
	Height     int64  `json:"latest_height"`
	AppHash    string `json:"latest_app_hash"`
	CatchingUp bool   `json:"catching_up"`
}

type accountJSON struct {
	Address string `json:"address"`
	Balance string `json:"balance"`
	Nonce   uint64 `json:"nonce"`
	Exists  bool   `json:"exists"`
}

func (a accountJSON) balance(t *testing.T) *big.Int {
	t.Helper()
	return parseUnits(t, a.Balance)
}

type supplyJSON struct {
	Total      string `json:"total"`
	RewardPool string `json:"reward_pool"`
	Treasury   string `json:"treasury"`
	Burned     string `json:"burned"`
}

type txJSON struct {
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Code   uint32 `json:"code"`
	Log    string `json:"log"`
}

type devnetJSON struct {
	ChainID  string `json:"chain_id"`
	RPC      string `json:"rpc"`
	Home     string `json:"home"`
	Keyring  string `json:"keyring"`
	Accounts []struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"accounts"`
	Worker *struct {
		Status      string `json:"status"`
		RelayAPI    string `json:"relay_api"`
		IdentityKey string `json:"identity_key"`
		Operator    string `json:"operator"`
		Registered  bool   `json:"registered"`
	} `json:"worker"`
	Gatekeeper *struct {
		Status string `json:"status"`
	} `json:"gatekeeper"`
	Cluster *struct {
		ID        string `json:"id"`
		PublicKey string `json:"public_key"`
	} `json:"cluster"`
}

func (d devnetJSON) address(t *testing.T, name string) string {
	t.Helper()
	for _, a := range d.Accounts {
		if a.Name == name {
			return a.Address
		}
	}
	t.Fatalf("devnet output has no account %q: %+v", name, d.Accounts)
	return ""
}

func parseUnits(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 {
		t.Fatalf("not a base-unit amount: %q", s)
	}
	return v
}

// ---------------------------------------------------------------------------
// Queries against a node

func (c *cli) status(url string) (statusJSON, error) {
	var st statusJSON
	err := c.run("query", "status", "--node", url, "--timeout", "3s", "--output", "json").decode(&st)
	return st, err
}

func (c *cli) mustStatus(url string) statusJSON {
	c.t.Helper()
	st, err := c.status(url)
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

func (c *cli) account(url, who string) accountJSON {
	c.t.Helper()
	var a accountJSON
	c.mustJSON(&a, "query", "account", who, "--node", url, "--output", "json")
	return a
}

func (c *cli) supply(url string) supplyJSON {
	c.t.Helper()
	var s supplyJSON
	c.mustJSON(&s, "query", "supply", "--node", url, "--output", "json")
	return s
}

func (c *cli) tx(url, hash string) (txJSON, error) {
	var tx txJSON
	err := c.run("query", "tx", hash, "--node", url, "--output", "json").decode(&tx)
	return tx, err
}

// transferArgs are the arguments of a 1 PHA transfer from alice.
func transferArgs(keyring, to, url string) []string {
	return []string{"tx", "transfer", "--keyring", keyring, "--from", "alice", "--to", to,
		"--amount", "1", "--node", url, "--output", "json"}
}

// transfer sends 1 PHA from alice to `to` and waits for its block.
func (c *cli) transfer(ctx context.Context, keyring, to, url string) (txJSON, result) {
	r := c.runCtx(ctx, c.withEnv("PHALA_PASSPHRASE="+devPassphrase), transferArgs(keyring, to, url)...)
	var tx txJSON
	if r.ok() {
		if err := r.decode(&tx); err != nil {
			r.err = err
		}
	}
	return tx, r
}

func (c *cli) mustTransfer(keyring, to, url string) txJSON {
	c.t.Helper()
	tx, r := c.transfer(context.Background(), keyring, to, url)
	if !r.ok() {
		c.t.Fatalf("transfer failed: %v\n%s", r.err, r)
	}
	if tx.Code != 0 || len(tx.Hash) != 64 || tx.Height <= 0 {
		c.t.Fatalf("transfer reported %+v", tx)
	}
	return tx
}

// ---------------------------------------------------------------------------
// Waiting

// pollInterval is how often conditions are re-checked.
const pollInterval = 100 * time.Millisecond

// waitFor polls cond until it reports done, returns an error (fatal at
// once), or timeout passes (fatal, with the last detail cond gave).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (done bool, detail string, err error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		done, detail, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last: %s)", timeout, what, detail)
		}
		<-tick.C
	}
}

// waitHeight waits until the node at url answers with a height >= h and
// returns that status. srv, if given, must stay alive meanwhile.
func (c *cli) waitHeight(srv *server, url string, h int64, timeout time.Duration) statusJSON {
	c.t.Helper()
	var st statusJSON
	waitFor(c.t, timeout, fmt.Sprintf("%s to reach height %d", url, h), func() (bool, string, error) {
		if srv != nil {
			if err := srv.checkAlive(); err != nil {
				return false, "", err
			}
		}
		s, err := c.status(url)
		if err != nil {
			return false, err.Error(), nil
		}
		st = s
		return s.Height >= h, fmt.Sprintf("height %d", s.Height), nil
	})
	return st
}
