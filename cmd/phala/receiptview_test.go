package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/workerwire"
)

// TestReceiptShowsValue: a receipt's payouts and the outcomes of the
// messages its contracts sent are in the JSON and the text a user sees.
func TestReceiptShowsValue(t *testing.T) {
	store, other, owner := contractsapi.Hash{1}, contractsapi.Hash{2}, address.Module("owner")
	a := client.ReceiptAnswer{Receipt: workerwire.Receipt{Seq: 9, Height: 4, Status: contractsapi.StatusOK, GasUsed: 1234, Output: []byte(`"5000"`),
		Payouts: []contractsapi.Payout{{Contract: store, To: owner, Amount: token.PHA(5)}},
		Messages: []workerwire.MessageOutcome{
			{From: store, Contract: other, Depth: 1, Status: contractsapi.StatusReverted, GasUsed: 77, Output: []byte("not today"),
				Events: []workerwire.ReceiptEvent{{Topic: "t", Data: []byte(`{"x":1}`)}}},
			{From: store, Depth: 1, Status: contractsapi.StatusNotInCluster},
		}}}
	r := receiptOut(a, 0)
	raw, _ := json.Marshal(r)
	for _, want := range []string{`"payouts":[{"contract":"` + store.String() + `","to":"` + owner.String() + `","amount":"5000000000000"}]`,
		`"status":"reverted","gas_used":77,"output_text":"not today","events":[{"topic":"t","data":{"x":1}}]`, `"status":"not in cluster"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("JSON lacks %s:\n%s", want, raw)
		}
	}
	text := r.text()
	for _, want := range []string{"payout 5 PHA from contract " + short(store.String()) + " to " + owner.String(),
		"message from " + short(store.String()) + " to " + short(other.String()) + " (depth 1): reverted, gas used 77, output \"not today\"",
		"\n  event t {\"x\":1}", "(depth 1): not in cluster, gas used 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}
