package client

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// testKey is a fixed sender, so addresses in the expectations are stable.
var testKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func signTestTx(t *testing.T, method string, body any) []byte {
	t.Helper()
	env, err := tx.New("test-chain", testKey.Public().(ed25519.PublicKey), 7, token.FromUint64(1500), 2000, method, body)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := env.Sign(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// bodyJSON is a description's body as a JSON reader sees it.
func bodyJSON(t *testing.T, d TxDescription) map[string]any {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Body map[string]any `json:"body"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	return out.Body
}

func TestDescribeTxKnownMethods(t *testing.T) {
	to := address.FromPublicKey(make([]byte, 32))
	id := make([]byte, 32)
	id[0] = 0xab
	idHex := hex.EncodeToString(id)
	egress := mq.Egress{Version: mq.EgressVersion, Sender: id, Seq: 4, Topic: registryapi.TopicHeartbeat, Payload: []byte{1, 2, 3}}
	cases := []struct {
		method string
		body   any
		want   map[string]any // every key of the JSON body, with its value
	}{
		{bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: token.PHA(2)},
			map[string]any{"to": to.String(), "amount": "2000000000000", "amount_pha": "2 PHA"}},
		{registryapi.MethodRegister, registryapi.Register{Role: registryapi.RoleGatekeeper, IdentityKey: id, EncryptionKey: []byte{9}, AnchorHeight: 12, Quote: make([]byte, 5)},
			map[string]any{"role": "gatekeeper", "identity_key": idHex, "encryption_key": "09", "anchor_height": 12.0, "quote_size": 5.0}},
		{registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: to}, Allowed: true},
			map[string]any{"operator": to.String(), "allowed": true}},
		{registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{IdentityKey: id}},
			map[string]any{"identity_key": idHex, "allowed": false}},
		{registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{AllowSim: true, MinTCBEvalDataNumber: 17}},
			map[string]any{"sgx": []any{}, "tdx": []any{}, "sim": []any{}, "accepted_tcb_statuses": []any{}, "min_tcb_eval_data_number": 17.0,
				"max_collateral_age_seconds": 0.0, "require_revocation_check": false, "allow_sim": true, "unsafe_allow_debug": false}},
		{mq.MethodSubmit, mq.SignEgress("test-chain", testKey, egress),
			map[string]any{"sender_identity": idHex, "sequence": 4.0, "topic": registryapi.TopicHeartbeat, "payload_size": 3.0}},
		{keysapi.MethodRotate, keysapi.Rotate{}, map[string]any{}},
		{keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "c1"}, map[string]any{"cluster": "c1"}},
		{keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "c1", Worker: id}, map[string]any{"cluster": "c1", "worker": idHex}},
		{contractsapi.MethodUpload, contractsapi.Upload{CodeHash: contractsapi.Hash{0xc0}, Size: 10, Offset: 4, Chunk: []byte{1, 2}},
			map[string]any{"code_hash": contractsapi.Hash{0xc0}.String(), "size": 10.0, "offset": 4.0, "chunk_size": 2.0}},
		{contractsapi.MethodInstantiate, contractsapi.Instantiate{CodeHash: contractsapi.Hash{0xc0}, Cluster: "default", Salt: []byte{1}, InitArgs: make([]byte, 9)},
			map[string]any{"code_hash": contractsapi.Hash{0xc0}.String(), "cluster": "default", "salt": "01", "init_args_size": 9.0}},
		{contractsapi.MethodCommand, contractsapi.Command{Contract: contractsapi.Hash{0xde}, Generation: 1, Sealed: []byte{1}, GasLimit: 5, Value: token.FromUint64(7)},
			map[string]any{"contract": contractsapi.Hash{0xde}.String(), "generation": 1.0, "sealed_size": 1.0, "gas_limit": 5.0, "value": "7", "value_pha": "0.000000000007 PHA"}},
	}
	sender := address.FromPublicKey(testKey.Public().(ed25519.PublicKey)).String()
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			raw := signTestTx(t, tc.method, tc.body)
			d := DescribeTx(raw)
			h := tx.Hash(raw)
			if d.Undecodable != "" || d.BodyError != "" || !d.KnownMethod() {
				t.Fatalf("a valid %s described as undecodable: %+v", tc.method, d)
			}
			if d.Hash != hex.EncodeToString(h[:]) || d.Size != len(raw) || d.Method != tc.method || d.Sender != sender ||
				d.Nonce != 7 || d.Fee != "1500" || d.FeePHA != "0.0000000015 PHA" || d.GasLimit != 2000 || d.ChainID != "test-chain" {
				t.Errorf("envelope described as %+v", d)
			}
			got := bodyJSON(t, d)
			if len(got) != len(tc.want) {
				t.Errorf("body %v, want %v", got, tc.want)
			}
			for k, want := range tc.want {
				gotJSON, _ := json.Marshal(got[k])
				wantJSON, _ := json.Marshal(want)
				if string(gotJSON) != string(wantJSON) {
					t.Errorf("body %s = %s, want %s", k, gotJSON, wantJSON)
				}
			}
		})
	}
}

func TestDescribeTxUnknownMethodShowsBodySize(t *testing.T) {
	raw := signTestTx(t, "bank.mint", []byte{1, 2, 3})
	d := DescribeTx(raw)
	if d.Undecodable != "" || d.Method != "bank.mint" || d.KnownMethod() || d.Body != nil || d.BodyError != "" || d.BodySize != 4 {
		t.Fatalf("unknown method described as %+v", d)
	}
	if _, ok := bodyJSONRaw(t, d)["body"]; ok {
		t.Error("an unknown method's JSON has a body")
	}
}

func bodyJSONRaw(t *testing.T, d TxDescription) map[string]json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDescribeTxBodyThatDoesNotDecode(t *testing.T) {
	d := DescribeTx(signTestTx(t, bankapi.MethodTransfer, "not a transfer"))
	if d.Undecodable != "" || d.Method != bankapi.MethodTransfer || d.Body != nil || !strings.Contains(d.BodyError, "does not decode") {
		t.Fatalf("a transfer with a bad body described as %+v", d)
	}
}

func TestDescribeTxUndecodableBytes(t *testing.T) {
	valid := signTestTx(t, bankapi.MethodTransfer, bankapi.Transfer{Amount: token.PHA(1)})
	cases := map[string][]byte{
		"nil":       nil,
		"empty":     {},
		"text":      []byte("hello, chain"),
		"truncated": valid[:len(valid)/2],
		"trailing":  append(append([]byte(nil), valid...), 0),
		"cbor null": {0xf6},
		"deep":      []byte(strings.Repeat("\x81", 100_000)),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			d := DescribeTx(raw)
			h := tx.Hash(raw)
			if d.Undecodable == "" || d.Method != "" || d.Sender != "" || d.Size != len(raw) || d.Hash != hex.EncodeToString(h[:]) {
				t.Fatalf("%x described as %+v", raw, d)
			}
			if _, err := json.Marshal(d); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOutcomeSummary(t *testing.T) {
	ok := OutcomeOf(&cometrpc.Tx{Height: 5, TxResult: cometrpc.ExecResult{GasUsed: 1000, GasWanted: 2000}})
	if ok.Summary() != "ok" || ok.Result != ResultOK || ok.Height != 5 || ok.GasUsed != 1000 {
		t.Errorf("success read as %+v (%s)", ok, ok.Summary())
	}
	failed := OutcomeOf(&cometrpc.Tx{Height: 5, TxResult: cometrpc.ExecResult{Code: 1, Codespace: "bank", Log: "bank/1: insufficient funds"}})
	if failed.Result != ResultFailed || failed.Summary() != "failed (bank code 1): bank/1: insufficient funds" {
		t.Errorf("failure read as %+v (%s)", failed, failed.Summary())
	}
}
