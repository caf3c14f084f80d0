package main

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// emitted is what emit prints for v and text in format.
func emitted(t *testing.T, format string, v any, text func() string) string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdout
	os.Stdout, outputFormat = f, format
	defer func() { os.Stdout, outputFormat = saved, "text" }() // globals: see runPhala
	if err := emit(v, text); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

var viewKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// committed is a transaction of method with body, committed with result.
func committed(t *testing.T, method string, body any, result cometrpc.ExecResult) client.CommittedTx {
	t.Helper()
	env, err := tx.New("test-chain", viewKey.Public().(ed25519.PublicKey), 3, token.FromUint64(2500), 100_000, method, body)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := env.Sign(viewKey)
	if err != nil {
		t.Fatal(err)
	}
	return client.DescribeCommitted(&cometrpc.Tx{Height: 42, TxResult: result, Tx: raw})
}

func TestQueryTxRendering(t *testing.T) {
	sender := address.FromPublicKey(viewKey.Public().(ed25519.PublicKey)).String()
	to := address.FromPublicKey(make([]byte, 32))
	id := make([]byte, 32)
	id[31] = 0x5a
	idHex := "000000000000000000000000000000000000000000000000000000000000005a"
	ok := cometrpc.ExecResult{GasWanted: 100_000, GasUsed: 1000}
	egress := mq.SignEgress("test-chain", viewKey, mq.Egress{Version: mq.EgressVersion, Sender: id, Seq: 9, Topic: "registry.heartbeat", Payload: []byte{1}})
	envelope := []string{"height  42", "method", "sender  " + sender, "nonce   3", "fee     0.0000000025 PHA", "gas     1000 used of a limit of 100000"}
	cases := []struct {
		name     string
		tx       client.CommittedTx
		text     []string // lines (trimmed of alignment) the text holds
		json     map[string]any
		jsonBody map[string]any
	}{
		{name: "transfer", tx: committed(t, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: token.PHA(3)}, ok),
			text:     append(envelope, "result  ok", "bank.transfer", "to      "+to.String(), "amount  3 PHA"),
			json:     map[string]any{"method": "bank.transfer", "sender": sender, "result": "ok", "code": 0.0, "height": 42.0, "nonce": 3.0, "fee": "2500", "gas_limit": 100000.0, "gas_used": 1000.0},
			jsonBody: map[string]any{"to": to.String(), "amount": "3000000000000", "amount_pha": "3 PHA"}},
		{name: "failed transfer", tx: committed(t, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: token.PHA(3)},
			cometrpc.ExecResult{Code: 1, Codespace: "bank", Log: "bank/1: insufficient funds: has 1"}),
			text: []string{"result  failed (bank code 1): bank/1: insufficient funds: has 1"},
			json: map[string]any{"result": "failed", "code": 1.0, "codespace": "bank", "log": "bank/1: insufficient funds: has 1"}},
		{name: "register", tx: committed(t, registryapi.MethodRegister, registryapi.Register{Role: registryapi.RoleWorker, IdentityKey: id, AnchorHeight: 40, Quote: []byte{1, 2}}, ok),
			text:     append(envelope, "registry.register", "role            worker", "identity key    "+idHex, "anchor height   40", "quote size      2"),
			jsonBody: map[string]any{"role": "worker", "identity_key": idHex, "anchor_height": 40.0, "quote_size": 2.0}},
		{name: "set_gatekeeper", tx: committed(t, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: to}, Allowed: true}, ok),
			text: []string{"operator  " + to.String(), "allowed   true"}, jsonBody: map[string]any{"operator": to.String(), "allowed": true}},
		{name: "set_policy", tx: committed(t, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true}}, ok),
			text:     []string{"allow sim                   true", "sgx                         any", "accepted tcb statuses       UpToDate, SWHardeningNeeded (default)"},
			jsonBody: map[string]any{"allow_sim": true}},
		{name: "mq.submit", tx: committed(t, mq.MethodSubmit, egress, ok),
			text:     append(envelope, "mq.submit", "sender identity  "+idHex, "sequence         9", "topic            registry.heartbeat", "payload size     1"),
			jsonBody: map[string]any{"sender_identity": idHex, "sequence": 9.0, "topic": "registry.heartbeat"}},
		{name: "keys.rotate", tx: committed(t, keysapi.MethodRotate, keysapi.Rotate{}, ok),
			text: []string{"method  keys.rotate", "body    empty"}, jsonBody: map[string]any{}},
		{name: "keys.create_cluster", tx: committed(t, keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "default"}, ok),
			text: []string{"body", "cluster  default"}, jsonBody: map[string]any{"cluster": "default"}},
		{name: "keys.assign_worker", tx: committed(t, keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "default", Worker: id}, ok),
			text: []string{"cluster  default", "worker   " + idHex}, jsonBody: map[string]any{"cluster": "default", "worker": idHex}},
		{name: "contracts.upload", tx: committed(t, contractsapi.MethodUpload, contractsapi.Upload{CodeHash: contractsapi.Hash{0xbe, 0xef}, Size: 9, Chunk: []byte{1, 2, 3}}, ok),
			text: []string{"method  contracts.upload", "beef00"}, jsonBody: map[string]any{"code_hash": contractsapi.Hash{0xbe, 0xef}.String(), "size": 9.0, "offset": 0.0, "chunk_size": 3.0}},
		{name: "unknown method", tx: committed(t, "bank.mint", []byte{1, 2}, ok),
			text: append(envelope, "bank.mint", "body    3 bytes (a method this client does not know)"),
			json: map[string]any{"method": "bank.mint", "body_size": 3.0}},
		{name: "undecodable bytes", tx: client.DescribeCommitted(&cometrpc.Tx{Height: 42, Tx: []byte("junk")}),
			text: []string{"height       42", "result       ok", "undecodable  4 bytes: "},
			json: map[string]any{"size": 4.0, "height": 42.0, "result": "ok"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := emitted(t, "text", tc.tx, func() string { return committedTxText(tc.tx) })
			checkTextOutput(t, text)
			for _, want := range tc.text {
				if !strings.Contains(squeeze(text), squeeze(want)) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(emitted(t, "json", tc.tx, nil)), &got); err != nil {
				t.Fatal(err)
			}
			if got["hash"] != tc.tx.Hash || len(tc.tx.Hash) != 64 {
				t.Errorf("JSON hash %v, want %s", got["hash"], tc.tx.Hash)
			}
			checkJSONFields(t, got, tc.json)
			if tc.jsonBody != nil {
				body, _ := got["body"].(map[string]any)
				checkJSONFields(t, body, tc.jsonBody)
			}
		})
	}
}

// checkTextOutput: a text output is text, not JSON, and ends with one
// newline.
func checkTextOutput(t *testing.T, text string) {
	t.Helper()
	if !strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\n\n") {
		t.Errorf("text does not end with exactly one newline: %q", text)
	}
	if json.Valid([]byte(text)) || strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[") {
		t.Errorf("text output is JSON:\n%s", text)
	}
}

// squeeze collapses runs of spaces, so checks do not depend on how wide
// the label column is.
func squeeze(s string) string {
	return regexp.MustCompile(` +`).ReplaceAllString(s, " ")
}

func checkJSONFields(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		gj, _ := json.Marshal(got[k])
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("JSON %s = %s, want %s (all: %v)", k, gj, wj, got)
		}
	}
}

func TestQueryBlockRendering(t *testing.T) {
	transfer := committed(t, bankapi.MethodTransfer, bankapi.Transfer{Amount: token.PHA(1)}, cometrpc.ExecResult{})
	junk := client.CommittedTx{TxDescription: client.DescribeTx([]byte("junk")), TxOutcome: client.TxOutcome{Result: client.ResultUnknown}}
	b := blockJSON{Height: 42, Hash: "AB", Time: time.Unix(0, 0).UTC(), NumTxs: 2, AppHash: "CD",
		Txs: []blockTxJSON{blockTxOut(transfer), blockTxOut(junk)}}
	text := emitted(t, "text", b, b.text)
	checkTextOutput(t, text)
	for _, want := range []string{"txs       2", strings.ToUpper(transfer.Hash) + "  bank.transfer  " + transfer.Sender + "  ok",
		strings.ToUpper(junk.Hash) + "  undecodable: "} {
		if !strings.Contains(squeeze(text), squeeze(want)) {
			t.Errorf("block text lacks %q:\n%s", want, text)
		}
	}
	var got struct {
		Txs []map[string]any `json:"txs"`
	}
	if err := json.Unmarshal([]byte(emitted(t, "json", b, nil)), &got); err != nil || len(got.Txs) != 2 {
		t.Fatalf("block JSON txs %v (%v)", got.Txs, err)
	}
	checkJSONFields(t, got.Txs[0], map[string]any{"hash": transfer.Hash, "method": "bank.transfer", "sender": transfer.Sender, "result": "ok"})
}

func TestQueryPolicyAndGatekeepersText(t *testing.T) {
	p := attest.Policy{AllowSim: true, AcceptedTCBStatuses: []string{attest.StatusUpToDate}, MinTCBEvalDataNumber: 16, MaxCollateralAgeSeconds: 3600,
		Sim: []attest.Hex{make([]byte, 32)}}
	policy := emitted(t, "text", p, func() string { return rowsText("", fieldRows(client.PolicyFields(p))) })
	checkTextOutput(t, policy)
	for _, want := range []string{"sgx", "none", "sim                         " + strings.Repeat("00", 32), "accepted tcb statuses       UpToDate",
		"min tcb eval data number    16", "max collateral age seconds  3600 seconds", "allow sim                   true"} {
		if !strings.Contains(squeeze(policy), squeeze(want)) {
			t.Errorf("policy text lacks %q:\n%s", want, policy)
		}
	}
	op := address.FromPublicKey(make([]byte, 32))
	grants := []client.Fields{client.GrantFields(registryapi.Grant{Operator: op}), client.GrantFields(registryapi.Grant{IdentityKey: make([]byte, 32)})}
	gk := emitted(t, "text", nil, func() string { return gatekeepersText(grants, []string{"gatekeeper ab  pha1x  sim/UpToDate  active"}) })
	checkTextOutput(t, gk)
	for _, want := range []string{"grants (2)", "  operator  " + op.String(), "  identity key  " + strings.Repeat("00", 32), "gatekeepers\n  gatekeeper ab"} {
		if !strings.Contains(squeeze(gk), squeeze(want)) {
			t.Errorf("gatekeepers text lacks %q:\n%s", want, gk)
		}
	}
}
