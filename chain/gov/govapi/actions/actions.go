// Package actions is a governance proposal's actions in the form people
// write and read: each Authority method's body as JSON, turned into the
// method's own body type and encoded in canonical CBOR, and back again to
// show a stored proposal. One table names every Authority method the
// client knows; the Go client and the CLI share it, so a proposal with a
// misspelt method or field is refused before it costs a deposit.
package actions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/codec"
)

// Action is one action as people write it: a method and its body in JSON.
type Action struct {
	Method string          `json:"method"`
	Body   json.RawMessage `json:"body"`
}

// kind is one Authority method: how its JSON body becomes the method's
// canonical CBOR body and back.
type kind struct {
	method  string
	summary string
	toCBOR  func(json.RawMessage) ([]byte, error)
	toJSON  func([]byte) (json.RawMessage, error)
}

var byMethod = func() map[string]kind {
	m := map[string]kind{}
	for _, k := range table() {
		m[k.method] = k
	}
	return m
}()

// Methods lists the Authority methods a proposal may carry, sorted.
func Methods() []string {
	names := make([]string, 0, len(byMethod))
	for name := range byMethod {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Summary says in a few words what a method does ("" if unknown).
func Summary(method string) string { return byMethod[method].summary }

// Encode turns an action's JSON body into the method's canonical CBOR
// body. An unknown method is refused with the list of known ones; an
// unknown field with its path in the body.
func Encode(a Action) (govapi.Action, error) {
	k, ok := byMethod[a.Method]
	if !ok {
		return govapi.Action{}, fmt.Errorf("unknown method %q (a proposal may carry: %s)", a.Method, strings.Join(Methods(), ", "))
	}
	body := a.Body
	if len(bytes.TrimSpace(body)) == 0 || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		body = json.RawMessage("{}")
	}
	raw, err := k.toCBOR(body)
	if err != nil {
		return govapi.Action{}, fmt.Errorf("%s: %w", a.Method, err)
	}
	if len(raw) > govapi.MaxActionBody {
		return govapi.Action{}, fmt.Errorf("%s: body of %d bytes, at most %d", a.Method, len(raw), govapi.MaxActionBody)
	}
	return govapi.Action{Method: a.Method, Body: raw}, nil
}

// EncodeAll encodes a proposal's actions; an error names the action's
// place in the list.
func EncodeAll(list []Action) ([]govapi.Action, error) {
	if len(list) > govapi.MaxActions {
		return nil, fmt.Errorf("%d actions, at most %d", len(list), govapi.MaxActions)
	}
	out := make([]govapi.Action, len(list))
	for i, a := range list {
		enc, err := Encode(a)
		if err != nil {
			return nil, fmt.Errorf("actions[%d]: %w", i, err)
		}
		out[i] = enc
	}
	return out, nil
}

// Decode shows a stored action as people write it. The body comes from
// the chain, so it is decoded strictly; a method this client does not know
// (a newer chain's) is an error the caller may show beside the raw body.
func Decode(a govapi.Action) (Action, error) {
	k, ok := byMethod[a.Method]
	if !ok {
		return Action{}, fmt.Errorf("unknown method %q: this client cannot show its body", a.Method)
	}
	body, err := k.toJSON(a.Body)
	if err != nil {
		return Action{}, fmt.Errorf("%s: %w", a.Method, err)
	}
	return Action{Method: a.Method, Body: body}, nil
}

// form builds a kind from the JSON form F people write and the method's
// body type B: F is decoded strictly, turned into B (checking what can be
// checked without the chain) and encoded canonically; the way back
// decodes B strictly and canonically and shows it as F.
func form[F, B any](method, summary string, in func(F) (B, error), out func(B) F) kind {
	return kind{
		method:  method,
		summary: summary,
		toCBOR: func(raw json.RawMessage) ([]byte, error) {
			var f F
			if err := DecodeStrict(raw, &f); err != nil {
				return nil, err
			}
			b, err := in(f)
			if err != nil {
				return nil, err
			}
			return codec.Marshal(b)
		},
		toJSON: func(raw []byte) (json.RawMessage, error) {
			var b B
			if err := codec.UnmarshalCanonical(raw, &b); err != nil {
				return nil, fmt.Errorf("body: %w", err)
			}
			return json.Marshal(out(b))
		},
	}
}

// same is the form of a body type whose own JSON is already readable.
func same[B any](method, summary string, check func(B) error) kind {
	return form(method, summary, func(b B) (B, error) { return b, check(b) }, func(b B) B { return b })
}
