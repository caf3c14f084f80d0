package client

import (
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/gov/govapi/actions"
)

// Governance's transactions, described for display: a proposal's actions
// in the JSON people write them in.
func init() {
	for method, describe := range map[string]func([]byte) (Fields, error){
		govapi.MethodPropose: describeBody(func(b govapi.Propose) Fields {
			return append(append(Fields{textField("title", b.Title), textField("description", b.Description)},
				amountFields("deposit", b.Deposit)...), actionsField(b.Actions))
		}),
		govapi.MethodDeposit: describeBody(func(b govapi.Deposit) Fields {
			return append(Fields{textField("proposal", b.Proposal)}, amountFields("amount", b.Amount)...)
		}),
		govapi.MethodVote: describeBody(func(b govapi.Vote) Fields {
			return Fields{textField("proposal", b.Proposal), textField("option", b.Option.String())}
		}),
	} {
		bodyDescribers[method] = describe
	}
	// Governance's own authority methods, sent by a proposal or a
	// development chain's unsafe dev admin.
	for _, method := range []string{govapi.MethodSetParams, govapi.MethodSpendTreasury, govapi.MethodUpgrade, govapi.MethodCancelUpgrade} {
		bodyDescribers[method] = func(raw []byte) (Fields, error) {
			a, err := actions.Decode(govapi.Action{Method: method, Body: raw})
			if err != nil {
				return nil, err
			}
			return Fields{{Key: "body", Value: a.Body, Text: string(a.Body)}}, nil
		}
	}
}

// actionsField shows each action as {"method", "body"}; a body this client
// cannot read is shown in hex.
func actionsField(list []govapi.Action) Field {
	shown := make([]any, len(list))
	texts := make([]string, len(list))
	for i, a := range list {
		d, err := actions.Decode(a)
		if err != nil {
			shown[i] = map[string]string{"method": a.Method, "body_hex": hex.EncodeToString(a.Body), "error": err.Error()}
			texts[i] = a.Method + " " + hex.EncodeToString(a.Body)
			continue
		}
		shown[i] = struct {
			Method string          `json:"method"`
			Body   json.RawMessage `json:"body"`
		}{a.Method, d.Body}
		texts[i] = a.Method + " " + string(d.Body)
	}
	return Field{Key: "actions", Value: shown, Text: strings.Join(texts, "; ")}
}
