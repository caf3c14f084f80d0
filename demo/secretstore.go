package demo

import (
	"context"
	"fmt"

	"github.com/phala-go/phala/contracts"
)

// deniedText is the secret store's refusal (contracts/secretstore ErrDenied).
const deniedText = "access denied"

// The secret store: alice keeps a secret; bob may read it once granted;
// anyone else is refused with the contract's error, whoever asks.
func (r *run) secretStoreSteps() []step {
	in := r.inputs
	a, b := r.people.alice, r.people.bob
	get := map[string]any{"owner": a.hex(), "name": in.SecretName}
	return []step{
		{"alice stores a secret (sealed command)", func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.SecretStore, "put", map[string]any{"name": in.SecretName, "secret": in.Secret})
			if err != nil {
				return "", err
			}
			return s.agreed(), nil
		}},
		{"bob cannot read it before a grant", func(ctx context.Context) (string, error) {
			return r.refusedRead(ctx, &b, get)
		}},
		{"alice grants bob read access (sealed command; the grant event goes to bob and alice only)", func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.SecretStore, "grant", map[string]any{"name": in.SecretName, "reader": b.hex()})
			if err != nil {
				return "", err
			}
			if len(s.receipt.Events) != 1 || s.receipt.Events[0].Topic != "secret.granted" {
				return "", fmt.Errorf("the grant's receipt has events %+v, want one secret.granted", s.receipt.Events)
			}
			return s.agreed(), nil
		}},
		// PAID GRANT: once the secret store sells read grants for value
		// (issue 14, value and payouts), insert here the step in which bob
		// buys the grant with r.c.Command(..., client.CommandOptions{Value:
		// price}) instead of (or after) alice's free grant above, and, after
		// bob's read below, the step in which alice withdraws the proceeds
		// and the chain shows her balance grown by the price.
		{"bob reads the secret (signed query; the answer is sealed to him)", func(ctx context.Context) (string, error) {
			ans, err := r.query(ctx, &b, contracts.SecretStore, "get", get, wantOutput(in.Secret))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("bob got alice's %d-character secret (%d workers agree)", len(in.Secret), ans.workers), nil
		}},
		{"a stranger asking is refused", func(ctx context.Context) (string, error) {
			return r.refusedRead(ctx, &r.people.stranger, get)
		}},
		{"an anonymous query is refused", func(ctx context.Context) (string, error) {
			return r.refusedRead(ctx, nil, get)
		}},
	}
}

// refusedRead asks for alice's secret as who and wants the contract's
// refusal from every worker.
func (r *run) refusedRead(ctx context.Context, who *person, get map[string]any) (string, error) {
	ans, err := r.query(ctx, who, contracts.SecretStore, "get", get, wantRefused(deniedText))
	if err != nil {
		return "", err
	}
	name := "anonymous"
	if who != nil {
		name = who.name
	}
	return fmt.Sprintf("%s: %s %q (%d workers agree)", name, ans.Status, ans.Output, ans.workers), nil
}
