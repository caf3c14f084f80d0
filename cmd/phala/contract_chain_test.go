package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/workerwire"
)

// TestContractCommandsOnDevnet runs phala contract upload, instantiate,
// show, command and list against a devnet in this process with its
// gatekeeper and worker. The code is a small file: the chain never reads
// code, it hashes it.
func TestContractCommandsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and a worker")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	d := teedevnet.Start(t, ctx, devworker.WorkerRole)
	home, v := d.Home, d.Validator

	t.Setenv("PHALA_PASSPHRASE", network.DevPassphrase)
	t.Setenv("PHALA_HOME", t.TempDir()) // reply keys and the client config
	t.Setenv(envWorker, "")
	conn := []string{"--node", v.Node.RPCURL(), "-o", "json"}
	bob := append([]string{"--from", "bob", "--keyring", network.KeyringDir(home)}, conn...)
	code := filepath.Join(t.TempDir(), "code.wasm")
	if err := os.WriteFile(code, []byte(strings.Repeat("not wasm: the chain only hashes code. ", 30)), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.wasm")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	var up struct {
		CodeHash string `json:"code_hash"`
		Chunks   int    `json:"chunks"`
		Existed  bool   `json:"existed"`
	}
	mustJSON(t, &up, append([]string{"contract", "upload", code, "--chunk", "100"}, bob...)...)
	if up.Chunks != 12 || up.Existed || len(up.CodeHash) != 64 {
		t.Fatalf("upload %+v", up)
	}
	mustJSON(t, &up, append([]string{"contract", "upload", code}, bob...)...)
	if !up.Existed || up.Chunks != 0 {
		t.Fatalf("second upload %+v", up)
	}
	var inst struct {
		Contract string `json:"contract"`
		Cluster  string `json:"cluster"`
		Account  string `json:"account"`
	}
	mustJSON(t, &inst, append([]string{"contract", "instantiate", up.CodeHash, "--salt", "s1", "--init", `{"supply":10}`}, bob...)...)
	if inst.Cluster != "default" || len(inst.Contract) != 64 {
		t.Fatalf("instantiate %+v", inst)
	}
	refusals := []struct {
		name string
		args []string
		want error  // a module error
		text string // else: a substring of the error
	}{
		{"upload an empty file", append([]string{"contract", "upload", empty}, bob...), contractsapi.ErrInvalid, ""},
		{"instantiate again with the same salt", append([]string{"contract", "instantiate", up.CodeHash, "--salt", "s1"}, bob...), contractsapi.ErrContractExists, ""},
		{"instantiate code never uploaded", append([]string{"contract", "instantiate", strings.Repeat("ab", 32)}, bob...), contractsapi.ErrUnknownCode, ""},
		{"instantiate in an unknown cluster", append([]string{"contract", "instantiate", up.CodeHash, "--cluster", "nope"}, bob...), module.ErrNotFound, ""},
		{"init arguments that are no JSON", append([]string{"contract", "instantiate", up.CodeHash, "--init", "supply=10"}, bob...), nil, "not JSON"},
		{"a code hash that is no hash", append([]string{"contract", "instantiate", "abc"}, bob...), contractsapi.ErrInvalid, ""},
		{"a command to an unknown contract", append([]string{"contract", "command", strings.Repeat("cd", 32), "m"}, bob...), module.ErrNotFound, ""},
		{"show an unknown contract", append([]string{"contract", "show", strings.Repeat("cd", 32)}, conn...), module.ErrNotFound, ""},
		{"a worker URL that is no URL", append([]string{"contract", "command", inst.Contract, "m", "--worker", "nope"}, bob...), nil, "not an http(s)"},
		{"a receipt of a command nobody knows", append([]string{"contract", "receipt", "1"}, conn...), nil, "cannot tell the command's contract"},
		{"a receipt of something that is no command", append([]string{"contract", "receipt", "x1"}, conn...), nil, "a command number or a transaction hash"},
	}
	for _, r := range refusals {
		_, err := runPhala(t, r.args...)
		if r.want != nil && !errors.Is(err, r.want) || r.want == nil && (err == nil || !strings.Contains(err.Error(), r.text)) {
			t.Fatalf("%s: %v, want %v %q", r.name, err, r.want, r.text)
		}
	}

	var show struct {
		ID         string `json:"id"`
		CodeHash   string `json:"code_hash"`
		PublicKeys []struct {
			Generation uint32 `json:"generation"`
		} `json:"public_keys"`
		Balance string `json:"balance"`
	}
	for deadline := time.Now().Add(time.Minute); ; {
		mustJSON(t, &show, append([]string{"contract", "show", inst.Contract}, conn...)...)
		if len(show.PublicKeys) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the contract's key never appeared")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if show.ID != inst.Contract || show.CodeHash != up.CodeHash || show.Balance != "0" {
		t.Fatalf("show %+v", show)
	}
	var sent struct {
		Seq          uint64 `json:"seq"`
		Hash         string `json:"hash"`
		GasLimit     uint64 `json:"gas_limit"`
		Value        string `json:"value"`
		ReplyKeyFile string `json:"reply_key_file"`
	}
	mustJSON(t, &sent, append([]string{"contract", "command", inst.Contract, "transfer", `{"to":"carol"}`, "--gas", "5000", "--value", "0.5", "--no-wait"}, bob...)...)
	if sent.Seq != 1 || sent.GasLimit != 5000 || sent.Value != "500000000000" || sent.ReplyKeyFile == "" {
		t.Fatalf("command %+v", sent)
	}
	if fi, err := os.Stat(sent.ReplyKeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("reply key file %s: %v %v", sent.ReplyKeyFile, fi, err)
	}
	// This "code" is no wasm: the worker never runs the contract, so the
	// command never opens; its plain receipt says so. Found by the
	// transaction's hash, from the worker the chain lists (none is
	// configured here), with the reply key phala saved.
	worker := []string{"--worker", d.Workers[0].PublicURL()}
	var receipt struct {
		Seq    uint64 `json:"seq"`
		Status string `json:"status"`
		Sealed bool   `json:"sealed"`
		Error  string `json:"error"`
	}
	out, err := runPhala(t, append([]string{"contract", "receipt", sent.Hash, "--wait"}, conn...)...)
	if err == nil || !strings.Contains(err.Error(), "unknown contract") || json.Unmarshal([]byte(out), &receipt) != nil ||
		receipt.Seq != 1 || receipt.Status != "no contract" || receipt.Sealed {
		t.Fatalf("receipt of a command to a contract the worker does not run: %+v %q (%v)", receipt, out, err)
	}
	if _, err := runPhala(t, append(append([]string{"contract", "receipt", "1", "--reply-key", sent.ReplyKeyFile}, worker...), conn...)...); err == nil || !strings.Contains(err.Error(), "unknown contract") {
		t.Fatalf("receipt by number from the named worker: %v", err)
	}
	// Another command's reply key is refused before anything is asked.
	_, err = runPhala(t, append(append([]string{"contract", "receipt", "99", "--reply-key", sent.ReplyKeyFile}, worker...), conn...)...)
	if err == nil || !strings.Contains(err.Error(), "command 1's") {
		t.Fatalf("another command's reply key: %v", err)
	}
	// Nor does it answer queries of a contract it does not run.
	_, err = runPhala(t, append(append([]string{"contract", "query", inst.Contract, "total_supply", "--from", "bob", "--keyring", network.KeyringDir(home)}, worker...), conn...)...)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "runtime/30") {
		t.Fatalf("query of a contract the worker does not run: %v", err)
	}
	// A transaction the worker never saw: 404 with the worker's code.
	_, err = runPhala(t, append(append([]string{"contract", "receipt", strings.Repeat("ab", 32)}, worker...), conn...)...)
	if err == nil || !strings.Contains(err.Error(), "workerapi/13") || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("receipt of a transaction the worker never saw: %v", err)
	}
	// The worker cannot run this code, so the command fails (no contract)
	// and the chain sends its 0.5 PHA back when the results land.
	for deadline := time.Now().Add(time.Minute); ; {
		mustJSON(t, &show, append([]string{"contract", "show", inst.Contract}, conn...)...)
		if show.Balance == "0" {
			break
		}
		if show.Balance != "500000000000" || time.Now().After(deadline) {
			t.Fatalf("the contract's account holds %s, want the value until the results land, then nothing", show.Balance)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var list struct {
		Contracts []struct {
			ID string `json:"id"`
		} `json:"contracts"`
		More bool `json:"more"`
	}
	mustJSON(t, &list, append([]string{"contract", "list"}, conn...)...)
	if len(list.Contracts) != 1 || list.Contracts[0].ID != inst.Contract || list.More {
		t.Fatalf("list %+v", list)
	}
	var params contractsapi.Params
	mustJSON(t, &params, append([]string{"contract", "params"}, conn...)...)
	if params != contractsapi.DefaultParams() {
		t.Fatalf("params %+v", params)
	}
	// Events for bob: none (the contract never ran), from the worker the
	// chain lists, signed by bob's key.
	var events struct {
		Events    []json.RawMessage `json:"events"`
		WorkerURL string            `json:"worker_url"`
	}
	mustJSON(t, &events, append([]string{"contract", "events", "--contract", inst.Contract}, bob...)...)
	if len(events.Events) != 0 || events.WorkerURL != d.Workers[0].PublicURL() {
		t.Fatalf("events %+v", events)
	}
	var workers struct {
		Workers []struct {
			URL string `json:"url"`
		} `json:"workers"`
	}
	mustJSON(t, &workers, append([]string{"query", "workers", "--contract", inst.Contract}, conn...)...)
	if len(workers.Workers) != 1 || workers.Workers[0].URL != d.Workers[0].PublicURL() {
		t.Fatalf("workers of the contract's cluster %+v", workers)
	}
	out, err = runPhala(t, "contract", "show", inst.Contract, "--node", v.Node.RPCURL())
	if err != nil || !strings.Contains(out, "generation 1") || !strings.Contains(out, "account   pha1") || !strings.Contains(out, "(0 PHA)") {
		t.Fatalf("show as text: %q (%v)", out, err)
	}
}

// mustJSON runs phala with args, which must succeed, and decodes its JSON
// output into v.
func mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := runPhala(t, args...)
	if err != nil {
		t.Fatalf("phala %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("phala %s: output %q: %v", strings.Join(args, " "), out, err)
	}
}

// TestReceiptTarget: a receipt is named by a command number or a
// transaction hash, nothing else.
func TestReceiptTarget(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		arg   string
		seq   uint64
		byTx  bool
		valid bool
	}{
		{"7", 7, false, true},
		{hash, 0, true, true},
		{"0x" + hash, 0, true, true},
		{strings.ToUpper(hash), 0, true, true},
		{strings.Repeat("0", 64), 0, false, false},
		{"-1", 0, false, false},
		{"abc", 0, false, false},
		{hash[:62], 0, false, false},
		{strings.Repeat("zz", 32), 0, false, false},
	} {
		ref, err := receiptTarget(tc.arg)
		if (err == nil) != tc.valid {
			t.Errorf("%q: %v", tc.arg, err)
			continue
		}
		if err == nil && (ref.Seq != tc.seq || (ref.TxHash != contractsapi.Hash{}) != tc.byTx) {
			t.Errorf("%q: %+v", tc.arg, ref)
		}
	}
}

// TestFindReplyKey: the saved reply key of a command is found by its
// number or its transaction's hash in the phala home; a given file must
// be that command's.
func TestFindReplyKey(t *testing.T) {
	t.Setenv("PHALA_HOME", t.TempDir())
	dir := defaultDir("replies")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tx := contractsapi.Hash{5}
	saved := fmt.Sprintf(`{"chain_id":"c","contract":"","seq":4,"tx_hash":%q,"suite":1,"reply_key":"AA=="}`, tx)
	path := filepath.Join(dir, "c-4.json")
	if err := os.WriteFile(path, []byte(saved), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		file  string
		ref   workerwire.ReceiptRef
		found bool
		err   string
	}{
		{"by number", "", workerwire.BySeq(4), true, ""},
		{"by transaction", "", workerwire.ByTx(tx), true, ""},
		{"another number", "", workerwire.BySeq(5), false, ""},
		{"another transaction", "", workerwire.ByTx(contractsapi.Hash{6}), false, ""},
		{"the file given", path, workerwire.ByTx(tx), true, ""},
		{"a file of another command", path, workerwire.BySeq(5), false, "command 4's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, found, err := findReplyKey(tc.file, "c", tc.ref)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || found != tc.found || (found && got.Seq != 4) {
				t.Fatalf("found %v %+v (%v)", found, got, err)
			}
		})
	}
}
