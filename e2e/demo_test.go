//go:build unix

package e2e

import (
	"bytes"
	"context"
	"crypto/hpke"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/demo"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/worker/enclave/keystore"
)

// TestDemoConfidential runs `phala demo` on `phala devnet` (the binaries),
// checks every step and the exit status, runs one scenario again in text
// form, and then does the confidentiality scan. The demo's secret
// values are random markers (its JSON report lists them); the keys are
// the ones the chain's public keys prove: the master key unsealed from the
// gatekeeper's keystore with the sim TEE's sealing secret (a file in the
// node's folder, which is what "sim protects nothing" means: on SGX or TDX
// that secret never leaves the CPU), and the cluster and contract keys
// derived from it. Neither a marker nor a key may appear, raw, in hex or in
// base64, in any block, transaction, result or message list, in the
// chain's stores (files and every key and value), in what a relay sent and
// received (a third worker of the cluster runs as its own processes with
// its relay behind recording proxies), in what the demo's client sent and
// received, in any file of the validator's, workers' and relays' homes, or
// in any log. The sim's sealing secret files are scanned like the rest;
// they are not treated as secrets, since with sim they protect nothing.
func TestDemoConfidential(t *testing.T) {
	skipShort(t)
	began := time.Now()
	c := newCLI(t)
	d := startDevnet(t, c)
	rpc := d.url()
	env := c.withEnv("PHALA_PASSPHRASE=" + devPassphrase)
	tee := devnetTEE(t, d)

	w, relayW, relayTraffic := startRecordedWorker(t, c, d, env)
	t.Logf("third worker in the cluster behind recording proxies after %v", time.Since(began).Round(time.Second))

	// The demo, its own traffic recorded too.
	nodeRec := newRecorder(t, rpc)
	demoArgs := []string{"demo", "--home", d.home, "--node", nodeRec.url(), "--output", "json"}
	demoRecs := []*recorder{nodeRec}
	for _, u := range tee.workerURLs() {
		rec := newRecorder(t, u)
		demoRecs = append(demoRecs, rec)
		demoArgs = append(demoArgs, "--worker", rec.url())
	}
	start := time.Now()
	res := c.runFor(8*time.Minute, env, demoArgs...)
	var rep demo.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("demo output is not its JSON report (%v):\n%s", err, res)
	}
	for _, s := range rep.Steps {
		if !s.OK {
			t.Errorf("step %d [%s] %s: %s", s.N, s.Scenario, s.Title, s.Error)
		}
	}
	if !res.ok() || !rep.OK || rep.Failed != 0 {
		t.Fatalf("demo: exit %d, ok %v, %d failed:\n%s", res.code, rep.OK, rep.Failed, res.stderr)
	}
	checkDemoSteps(t, rep)
	t.Logf("demo: %d steps ok in %v", len(rep.Steps), time.Since(start).Round(time.Second))

	// Again, one scenario, as a user reads it: the same code is on chain
	// already (the build is reproducible), a new contract, the same verdict.
	text := c.runFor(3*time.Minute, env, "demo", "inference", "--home", d.home)
	if !text.ok() {
		t.Fatalf("second demo run: %s", text)
	}
	for _, want := range []string{"phala demo on phala-devnet", " 1. the network is ready: ok", "code on chain already", "[inference] bob asks for a prediction", "verdict: ok, all 6 steps did what they should"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("the text output lacks %q:\n%s", want, text.stdout)
		}
	}
	if none := c.run("demo", "--home", t.TempDir()); none.ok() || !strings.Contains(none.stderr, "no devnet is running on") || !strings.Contains(none.stderr, "phala devnet --home") {
		t.Errorf("a demo on a home with no devnet: %s", none)
	}

	// The scan. First what the chain serves, while it runs.
	s := &scanner{}
	addInputNeedles(s, rep.Inputs)
	// Positive control: the client, which holds the plaintext, shows every
	// text marker in its report (the binary forms are what CBOR and the
	// inference signature would carry).
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(res.stdout)); err != nil {
		t.Fatal(err)
	}
	hits := s.hits(compact.Bytes())
	for _, n := range s.needles {
		if !strings.HasSuffix(n.what, "(binary)") && !slices.Contains(hits, n.what) {
			t.Fatalf("positive control: the demo's report does not show %s; the scan would not find it either", n.what)
		}
	}
	keys := chainKeys(t, rpc, rep)
	// Controls: public values the chain and the relays carry
	// must be found where they are, in the forms the secrets are looked
	// for in (a scan reading nothing would find nothing).
	tokenID, _ := hex.DecodeString(rep.Contracts["token"].Contract)
	s.control("the token's contract id", tokenID)
	s.control("the cluster's public key", keys.clusters[1])
	blocks := scanChain(t, s, rpc)

	// Stop everything cleanly (checkpoints written, stores closed).
	for _, p := range []*server{relayW, w.srv, d.srv} {
		p.interrupt(t, 60*time.Second)
	}
	addKeyNeedles(t, s, d.home, tee, keys)

	for name, rec := range map[string]*recorder{"relay to node": relayTraffic[0], "relay to its runtime": relayTraffic[1]} {
		data, conns := rec.recorded()
		if conns == 0 || len(data) < 1000 {
			t.Fatalf("the %s proxy saw %d connections, %d bytes", name, conns, len(data))
		}
		s.scan("traffic "+name, data)
	}
	for i, rec := range demoRecs {
		data, _ := rec.recorded()
		s.scan(fmt.Sprintf("the demo client's traffic (proxy %d)", i), data)
	}
	for _, dir := range []string{d.home, w.home, c.phalaHome, d.srv.dir, w.srv.dir, relayW.dir} {
		s.scanTree(t, dir)
	}
	stores := s.scanPebbleStores(t, filepath.Join(d.home, "data"))
	t.Logf("scanned %d places, %.1f MB (%d blocks, %d pebble stores) for %d secrets in %d forms each; %v in all",
		s.places, float64(s.bytes)/1e6, blocks, stores, len(s.needles), len(s.needles[0].forms), time.Since(began).Round(time.Second))
	if stores < 5 || blocks < 50 {
		t.Fatalf("the scan covered too little: %d pebble stores, %d blocks", stores, blocks)
	}
	for _, c := range []struct{ what, where string }{
		{"the token's contract id", "transaction"}, {"the token's contract id", "traffic relay to node"},
		{"the token's contract id", "the demo client's traffic"}, {"the cluster's public key", "(keys and values)"},
	} {
		if !s.seenIn(c.what, c.where) {
			t.Errorf("control: %s was not found in %s: the scan does not read it as the secrets would be read", c.what, c.where)
		}
	}
	for _, f := range s.found {
		t.Errorf("found %s", f)
	}
}

// checkDemoSteps: the report has every scenario's steps and says what
// each saw.
func checkDemoSteps(t *testing.T, rep demo.Report) {
	t.Helper()
	per := map[string]int{}
	for _, s := range rep.Steps {
		per[s.Scenario]++
		if s.Detail == "" {
			t.Errorf("step %d %q says nothing of what it saw", s.N, s.Title)
		}
	}
	for _, name := range []string{"token", "secretstore", "voting", "inference"} {
		if per[name] < 4 || rep.Contracts[name].Contract == "" {
			t.Errorf("scenario %s: %d steps, contract %+v", name, per[name], rep.Contracts[name])
		}
	}
}

// teeInfo is what the devnet printed of its TEE nodes.
type teeInfo struct {
	Gatekeeper struct {
		IdentityKey string `json:"identity_key"`
	} `json:"gatekeeper"`
	Workers []struct {
		IdentityKey string `json:"identity_key"`
		PublicAPI   string `json:"public_api"`
	} `json:"workers"`
}

func (ti teeInfo) workerURLs() []string {
	var out []string
	for _, w := range ti.Workers {
		out = append(out, w.PublicAPI)
	}
	return out
}

func devnetTEE(t *testing.T, d *devnet) teeInfo {
	t.Helper()
	var ti teeInfo
	if err := json.Unmarshal([]byte(d.srv.stdoutText()), &ti); err != nil || ti.Gatekeeper.IdentityKey == "" || len(ti.Workers) != 2 {
		t.Fatalf("devnet printed no gatekeeper and two workers (%v):\n%s", err, d.srv.stdoutText())
	}
	return ti
}

// startRecordedWorker runs a third worker of the default cluster as its
// own `phala worker` and `phala relay` processes, the relay reaching the
// node and the runtime's relay API only through recording proxies, and
// waits until the worker holds the cluster's key. Its operator is a new
// account (the demo's people send their own transactions).
func startRecordedWorker(t *testing.T, c *cli, d *devnet, env []string) (*workerProc, *server, []*recorder) {
	t.Helper()
	rpc, keys := d.url(), d.info.Keyring
	var op keyJSON
	c.mustJSONEnv(&op, []string{"PHALA_PASSPHRASE=" + devPassphrase}, "keys", "add", "operator-w", "--keyring", keys, "--output", "json")
	c.mustJSONEnv(&txJSON{}, []string{"PHALA_PASSPHRASE=" + devPassphrase}, "tx", "transfer", "--from", "alice", "--to", op.Address,
		"--amount", "1000", "--keyring", keys, "--node", rpc, "--output", "json")
	var toNode, toRuntime *recorder
	tw := startThirdWorker(t, c, d, env, filepath.Join(t.TempDir(), "worker-w"), thirdWorkerOptions{
		operator: op.Address, operatorKey: "operator-w", registerWithin: 90 * time.Second,
		route: func(runtime, node string) (string, string) {
			toRuntime, toNode = newRecorder(t, runtime), newRecorder(t, node)
			return toRuntime.url(), toNode.url()
		},
	})
	return tw.workerProc, tw.relay, []*recorder{toNode, toRuntime}
}

// addInputNeedles adds the demo's secret values: the secret and its name,
// the transfer's amount (decimal, and the 8 bytes of a binary encoding),
// the ballot and its options (inside every vote), bob's features (as the
// JSON arguments list them, and as the 32 bytes the contract signs).
func addInputNeedles(s *scanner, in demo.Inputs) {
	s.add("the secret", []byte(in.Secret))
	s.add("the secret's name", []byte(in.SecretName))
	s.add("the transfer amount", []byte(strconv.FormatUint(in.Transfer, 10)))
	s.add("the transfer amount (binary)", binary.BigEndian.AppendUint64(nil, in.Transfer))
	s.add("the ballot", []byte(in.Ballot))
	for i, o := range in.Options {
		s.add(fmt.Sprintf("ballot option %d", i), []byte(o))
	}
	var text []string
	var bin []byte
	for _, f := range in.Features {
		text = append(text, strconv.FormatInt(f, 10))
		bin = binary.BigEndian.AppendUint64(bin, uint64(f))
	}
	s.add("the inference features", []byte(strings.Join(text, ",")))
	s.add("the inference features (binary)", bin)
}

// onChainKeys are the public keys the chain records, against which the
// secrets the test derives are checked.
type onChainKeys struct {
	chainID   string
	masters   map[uint32][]byte
	clusters  map[uint32][]byte // default cluster, by generation
	contracts map[string][]byte // contract id hex -> newest public key
	gens      map[string]uint32
}

func chainKeys(t *testing.T, rpc string, rep demo.Report) onChainKeys {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.New(rpc)
	if err != nil {
		t.Fatal(err)
	}
	k := onChainKeys{masters: map[uint32][]byte{}, clusters: map[uint32][]byte{}, contracts: map[string][]byte{}, gens: map[string]uint32{}}
	if k.chainID, err = cl.ChainID(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := cl.MasterKeys(ctx)
	if err != nil || len(m.Publics) == 0 {
		t.Fatalf("master keys %+v (%v)", m, err)
	}
	for _, p := range m.Publics {
		k.masters[p.Generation] = p.PublicKey
	}
	info, err := cl.Cluster(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range info.Publics {
		k.clusters[p.Generation] = p.PublicKey
	}
	for name, dep := range rep.Contracts {
		id, err := contractsapi.ParseHash(dep.Contract)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pubs, err := cl.ContractKeys(ctx, "default", id[:])
		if err != nil || len(pubs) == 0 {
			t.Fatalf("%s's keys: %+v (%v)", name, pubs, err)
		}
		k.contracts[dep.Contract] = pubs[len(pubs)-1].PublicKey
		k.gens[dep.Contract] = pubs[len(pubs)-1].Generation
	}
	return k
}

// addKeyNeedles unseals the gatekeeper's keystore with its sim platform,
// derives the cluster and contract keys from each master generation, and
// adds every secret (and its HPKE private key) once its public half is
// the one the chain records; the workers' keystores must hold the same
// cluster key.
func addKeyNeedles(t *testing.T, s *scanner, home string, tee teeInfo, k onChainKeys) {
	t.Helper()
	gk := openKeystore(t, home, devworker.GatekeeperRole, tee.Gatekeeper.IdentityKey, k.chainID)
	for gen, masterPub := range k.masters {
		m, ok := gk.Master(gen)
		if !ok {
			t.Fatalf("the gatekeeper's keystore has no master generation %d", gen)
		}
		addSecret(t, s, fmt.Sprintf("master key %d", gen), m[:], mustKey(t)(m.EncryptionKey(k.chainID)), masterPub)
		ck, err := m.Cluster(k.chainID, []byte("default"))
		if err != nil {
			t.Fatal(err)
		}
		if pub, ok := k.clusters[gen]; ok {
			addSecret(t, s, fmt.Sprintf("cluster key %d", gen), ck[:], mustKey(t)(ck.EncryptionKey(k.chainID)), pub)
			for i, wk := range tee.Workers {
				held, ok := openKeystore(t, home, devworker.WorkerRoles[i], wk.IdentityKey, k.chainID).Cluster("default", gen)
				if !ok || held != ck {
					t.Fatalf("worker %d's keystore holds another cluster key of generation %d than the one derived (held %v)", i, gen, ok)
				}
			}
		}
		for id, pub := range k.contracts {
			if k.gens[id] != gen {
				continue
			}
			raw, _ := hex.DecodeString(id)
			ct, err := ck.Contract(k.chainID, raw)
			if err != nil {
				t.Fatal(err)
			}
			addSecret(t, s, "contract key of "+id[:12], ct[:], mustKey(t)(ct.EncryptionKey(k.chainID)), pub)
		}
	}
}

func openKeystore(t *testing.T, home string, r devworker.Role, identityHex, chainID string) *keystore.Keystore {
	t.Helper()
	p, err := devworker.Platform(node.Home(home), r)
	if err != nil {
		t.Fatal(err)
	}
	id, err := hex.DecodeString(identityHex)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(p, filepath.Join(devworker.Dir(node.Home(home), r), keystore.File), chainID, id, nil)
	if err != nil {
		t.Fatalf("%s's keystore: %v", r.Name, err)
	}
	return ks
}

// addSecret adds secret and its HPKE private key once the key's public
// half is the one on chain: the test then knows it scans for the real key.
func addSecret(t *testing.T, s *scanner, what string, secret []byte, priv hpke.PrivateKey, onChain []byte) {
	t.Helper()
	if !bytes.Equal(priv.PublicKey().Bytes(), onChain) {
		t.Fatalf("%s derived by the test does not give the public key on chain", what)
	}
	b, err := priv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s.add(what, secret)
	s.add(what+" (HPKE private key)", b)
}

// mustKey fails the test on a derivation error.
func mustKey(t *testing.T) func(hpke.PrivateKey, error) hpke.PrivateKey {
	return func(k hpke.PrivateKey, err error) hpke.PrivateKey {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// scanChain scans every block (CometBFT's JSON, each transaction decoded),
// every block's results (events) and every block's message list for
// enclaves, from the first to the newest; it returns the blocks scanned.
func scanChain(t *testing.T, s *scanner, rpc string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := client.New(rpc)
	if err != nil {
		t.Fatal(err)
	}
	top, err := cl.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for h := int64(1); h <= top; h++ {
		blk := rpcGet(t, ctx, rpc, "block", h)
		s.scan(fmt.Sprintf("block %d", h), blk)
		var b struct {
			Result struct {
				Block struct {
					Data struct {
						Txs []string `json:"txs"`
					} `json:"data"`
				} `json:"block"`
			} `json:"result"`
		}
		if err := json.Unmarshal(blk, &b); err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		for i, tx := range b.Result.Block.Data.Txs {
			raw, err := base64.StdEncoding.DecodeString(tx)
			if err != nil {
				t.Fatalf("block %d tx %d: %v", h, i, err)
			}
			s.scan(fmt.Sprintf("block %d transaction %d", h, i), raw)
		}
		s.scan(fmt.Sprintf("block %d results", h), rpcGet(t, ctx, rpc, "block_results", h))
		var msgs mq.Block
		if err := cl.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(h), &msgs); err != nil {
			t.Fatalf("block %d's message list: %v", h, err)
		}
		s.scan(fmt.Sprintf("block %d message list", h), codec.MustMarshal(msgs))
	}
	return top
}

func rpcGet(t *testing.T, ctx context.Context, rpc, method string, h int64) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/%s?height=%d", rpc, method, h), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %d: %v", method, h, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %d: HTTP %d (%v)", method, h, resp.StatusCode, err)
	}
	return body
}

// runFor is cli.run with a longer bound than cmdTimeout (a whole demo).
func (c *cli) runFor(timeout time.Duration, env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.runLong(ctx, env, args...)
}

// interrupt stops the process as Ctrl-C does and waits for it to exit
// (a clean stop: checkpoints written, stores closed); after timeout it is
// killed and the test fails.
func (s *server) interrupt(t *testing.T, timeout time.Duration) {
	t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("interrupting %s: %v", s.name, err)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		s.kill()
		t.Fatalf("%s did not stop within %v of SIGINT", s.name, timeout)
	}
}
