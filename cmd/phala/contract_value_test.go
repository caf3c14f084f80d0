package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/vm/wasmbuild"
)

// TestContractValueOnDevnet sells a read grant of the secret store
// through the CLI: --value carries PHA, a short purchase fails with the
// contract's text, the purchase's receipt shows the change paid back, the
// withdrawal's the proceeds paid out, and the contract's account ends
// empty (contract show and query balance agree).
func TestContractValueOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and a worker, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	dir, _ := filepath.Abs("../../contracts/secretstore")
	code, err := wasmbuild.NewCache(t.TempDir()).Code(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "secretstore.wasm")
	if err := os.WriteFile(file, code, 0o600); err != nil {
		t.Fatal(err)
	}
	d := teedevnet.Start(t, ctx, devworker.WorkerRole)
	t.Setenv("PHALA_PASSPHRASE", network.DevPassphrase)
	t.Setenv("PHALA_HOME", t.TempDir())
	t.Setenv(envWorker, "")
	conn := []string{"--node", d.Validator.Node.RPCURL(), "-o", "json"}
	as := func(who string) []string {
		return append([]string{"--from", who, "--keyring", network.KeyringDir(d.Home)}, conn...)
	}
	worker := []string{"--worker", d.Workers[0].PublicURL()}
	addrOf := func(who string) address.Address {
		return address.FromPublicKey(ed25519.NewKeyFromSeed(keyring.DevSeed(who)).Public().(ed25519.PublicKey))
	}
	var up struct {
		CodeHash string `json:"code_hash"`
	}
	mustJSON(t, &up, append([]string{"contract", "upload", file}, as("alice")...)...)
	var inst struct {
		Contract string `json:"contract"`
		Account  string `json:"account"`
	}
	mustJSON(t, &inst, append([]string{"contract", "instantiate", up.CodeHash}, as("alice")...)...)
	var show struct {
		Account    string `json:"account"`
		Balance    string `json:"balance"`
		PublicKeys []any  `json:"public_keys"`
	}
	waitShow := func(done func() bool, what string) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			mustJSON(t, &show, append([]string{"contract", "show", inst.Contract}, conn...)...)
			if done() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, show)
			}
		}
	}
	waitShow(func() bool { return len(show.PublicKeys) > 0 }, "the contract's key never appeared")

	type receipt struct {
		Status  string `json:"status"`
		Output  any    `json:"output"`
		Payouts []struct {
			Contract, To, Amount string
		} `json:"payouts"`
	}
	var sent struct {
		Value   string  `json:"value"`
		Receipt receipt `json:"receipt"`
	}
	command := func(who, method, args string, extra ...string) error {
		out, err := runPhala(t, append(append(append([]string{"contract", "command", inst.Contract, method, args}, extra...), worker...), as(who)...)...)
		sent.Receipt = receipt{}
		if jerr := json.Unmarshal([]byte(out), &sent); jerr != nil {
			t.Fatalf("%s: %q: %v (%v)", method, out, jerr, err)
		}
		return err
	}
	for _, c := range [][2]string{{"put", `{"name":"passport","secret":"X123"}`}, {"set_price", `{"name":"passport","price":"5000000000000"}`}} {
		if err := command("alice", c[0], c[1]); err != nil {
			t.Fatalf("%s: %v", c[0], err)
		}
	}
	buy := `{"owner":"` + hex.EncodeToString(addrOf("alice").Bytes()) + `","name":"passport"}`
	if err := command("bob", "grant", buy, "--value", "3"); err == nil || !strings.Contains(err.Error(), "below the price") || sent.Receipt.Status != "reverted" {
		t.Fatalf("a short purchase: %v %+v", err, sent.Receipt)
	}
	if err := command("bob", "grant", buy, "--value", "7"); err != nil || sent.Value != "7000000000000" || sent.Receipt.Status != "ok" ||
		len(sent.Receipt.Payouts) != 1 || sent.Receipt.Payouts[0].To != addrOf("bob").String() || sent.Receipt.Payouts[0].Amount != "2000000000000" ||
		sent.Receipt.Payouts[0].Contract != inst.Contract {
		t.Fatalf("a purchase: %v %+v", err, sent)
	}
	if err := command("alice", "withdraw", "{}"); err != nil || sent.Receipt.Output != "5000000000000" ||
		len(sent.Receipt.Payouts) != 1 || sent.Receipt.Payouts[0].To != addrOf("alice").String() || sent.Receipt.Payouts[0].Amount != "5000000000000" {
		t.Fatalf("withdraw: %v %+v", err, sent)
	}
	waitShow(func() bool { return show.Balance == "0" }, "the contract's account never emptied")
	var bal struct {
		Balance string `json:"balance"`
	}
	mustJSON(t, &bal, append([]string{"query", "balance", show.Account}, conn...)...)
	if bal.Balance != "0" || show.Account != inst.Account {
		t.Fatalf("query balance %s: %+v (instantiate said %s)", show.Account, bal, inst.Account)
	}
}
