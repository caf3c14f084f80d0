package demo

import (
	"context"
	"fmt"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/contracts"
	"github.com/phala-go/phala/token"
)

// deniedText is the secret store's refusal (contracts/secretstore ErrDenied).
const deniedText = "access denied"

// secretPrice is what alice asks for reading her secret; bob sends
// twice as much and gets the change back.
var secretPrice = token.PHA(1)

// The secret store: alice keeps a secret; carol reads it once alice grants
// her; alice sells read access and bob buys it (the change comes back, the
// price waits in the contract's account until alice withdraws it); anyone
// else is refused with the contract's error, whoever asks.
func (r *run) secretStoreSteps() []step {
	in := r.inputs
	a, b, c := r.people.alice, r.people.bob, r.people.carol
	get := map[string]any{"owner": a.hex(), "name": in.SecretName}
	paying, _ := secretPrice.MulUint64(2)
	return []step{
		{"alice stores a secret (sealed command)", func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.SecretStore, "put", map[string]any{"name": in.SecretName, "secret": in.Secret})
			if err != nil {
				return "", err
			}
			return s.agreed(), nil
		}},
		{"bob cannot read it", func(ctx context.Context) (string, error) {
			return r.refusedRead(ctx, &b, get)
		}},
		{"alice grants carol read access for free (the grant event goes to carol and alice only)", func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.SecretStore, "grant", map[string]any{"name": in.SecretName, "reader": c.hex()})
			if err != nil {
				return "", err
			}
			if len(s.receipt.Events) != 1 || s.receipt.Events[0].Topic != "secret.granted" {
				return "", fmt.Errorf("the grant's receipt has events %+v, want one secret.granted", s.receipt.Events)
			}
			return s.agreed(), nil
		}},
		{"carol reads the secret (signed query; the answer is sealed to her)", func(ctx context.Context) (string, error) {
			return r.readSecret(ctx, c, get)
		}},
		{fmt.Sprintf("alice sells read access for %s; anyone may ask the price", secretPrice.PHAString()), func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.SecretStore, "set_price", map[string]any{"name": in.SecretName, "price": secretPrice.String()})
			if err != nil {
				return "", err
			}
			if _, err := r.query(ctx, &b, contracts.SecretStore, "price", get, wantOutput(secretPrice.String())); err != nil {
				return "", err
			}
			return fmt.Sprintf("bob sees the price %s (%s)", secretPrice.PHAString(), s.agreed()), nil
		}},
		{fmt.Sprintf("bob buys a read grant, sending %s (sealed command with value)", paying.PHAString()), func(ctx context.Context) (string, error) {
			s, err := r.commandPaying(ctx, b, contracts.SecretStore, "grant", map[string]any{"owner": a.hex(), "name": in.SecretName}, paying)
			if err != nil {
				return "", err
			}
			change, _ := paying.Sub(secretPrice)
			if !s.paid(b, change) {
				return "", fmt.Errorf("the receipt pays out %+v, want bob's change %s", s.receipt.Payouts, change.PHAString())
			}
			if err := r.contractHolds(ctx, contracts.SecretStore, secretPrice); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s change paid back to bob; the contract's account holds the price (%s)", change.PHAString(), s.agreed()), nil
		}},
		{"bob reads the secret", func(ctx context.Context) (string, error) {
			return r.readSecret(ctx, b, get)
		}},
		{"a stranger asking is refused", func(ctx context.Context) (string, error) {
			return r.refusedRead(ctx, &r.people.stranger, get)
		}},
		{"an anonymous query is refused", func(ctx context.Context) (string, error) {
			return r.refusedRead(ctx, nil, get)
		}},
		{"alice withdraws the proceeds", func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.SecretStore, "withdraw", nil)
			if err != nil {
				return "", err
			}
			if !s.paid(a, secretPrice) {
				return "", fmt.Errorf("the receipt pays out %+v, want %s to alice", s.receipt.Payouts, secretPrice.PHAString())
			}
			if err := r.contractHolds(ctx, contracts.SecretStore, token.Amount{}); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s paid to alice; the contract's account is empty (%s)", secretPrice.PHAString(), s.agreed()), nil
		}},
	}
}

// readSecret asks for alice's secret as who and wants it from every worker.
func (r *run) readSecret(ctx context.Context, who person, get map[string]any) (string, error) {
	ans, err := r.query(ctx, &who, contracts.SecretStore, "get", get, wantOutput(r.inputs.Secret))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s got alice's %d-character secret (%d workers agree)", who.name, len(r.inputs.Secret), ans.workers), nil
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

// contractHolds waits until example name's contract account on chain
// holds want: the chain carries out payouts once the workers' results for
// the block land.
func (r *run) contractHolds(ctx context.Context, name string, want token.Amount) error {
	acct := contractsapi.ContractAccount(r.ids[name])
	var got token.Amount
	err := poll(ctx, func() (bool, error) {
		a, err := r.c.Account(ctx, acct)
		got = a.Balance
		return err == nil && got == want, err
	})
	if err != nil {
		return fmt.Errorf("the contract's account holds %s, want %s: %w", got.PHAString(), want.PHAString(), err)
	}
	return nil
}
