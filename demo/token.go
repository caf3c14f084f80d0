package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/phala-go/phala/contracts"
)

// The token: alice's supply comes from sealed init arguments; she sends
// bob tokens privately; each reads only their own balance; the chain
// holds the transfer sealed.
func (r *run) tokenSteps() []step {
	in := r.inputs
	a, b := r.people.alice, r.people.bob
	var transfer sent
	return []step{
		{"alice holds the whole supply, minted by the token's sealed init arguments (signed query)", func(ctx context.Context) (string, error) {
			return r.balance(ctx, a, in.TokenSupply)
		}},
		{fmt.Sprintf("alice sends bob %d tokens privately (sealed command)", in.Transfer), func(ctx context.Context) (string, error) {
			var err error
			if transfer, err = r.commandOK(ctx, a, contracts.Token, "transfer", map[string]any{"to": b.hex(), "amount": in.Transfer}); err != nil {
				return "", err
			}
			if left := in.TokenSupply - in.Transfer; !jsonEqual(transfer.receipt.Output, []byte(strconv.FormatUint(left, 10))) {
				return "", fmt.Errorf("the transfer returned %s, want alice's new balance %d", transfer.receipt.Output, left)
			}
			if err := checkTransferEvent(transfer, b.hex(), in.Transfer); err != nil {
				return "", err
			}
			return fmt.Sprintf("receipt ok, alice's event token.transfer (%s)", transfer.agreed()), nil
		}},
		{"the chain holds the transfer sealed: its transaction names neither the amount nor bob", func(ctx context.Context) (string, error) {
			tx, err := r.c.Tx(ctx, transfer.Hash[:])
			if err != nil {
				return "", err
			}
			for what, needle := range map[string][]byte{"the amount": []byte(strconv.FormatUint(in.Transfer, 10)), "bob's address": b.address.Bytes(), "bob's address in hex": []byte(b.hex())} {
				if bytes.Contains(tx.Tx, needle) {
					return "", fmt.Errorf("transaction %X shows %s in the clear", transfer.Hash, what)
				}
			}
			return fmt.Sprintf("transaction %s: %d bytes, sender alice in the clear, the command sealed to the contract's key", abbrev(fmt.Sprintf("%X", transfer.Hash)), len(tx.Tx)), nil
		}},
		{"bob reads his balance (signed query)", func(ctx context.Context) (string, error) { return r.balance(ctx, b, in.Transfer) }},
		{"alice reads hers", func(ctx context.Context) (string, error) { return r.balance(ctx, a, in.TokenSupply-in.Transfer) }},
		{"a stranger can only ask for its own balance: 0", func(ctx context.Context) (string, error) { return r.balance(ctx, r.people.stranger, 0) }},
	}
}

// balance asks, signed by who, for who's own balance (the only one the
// token answers) and wants want from every worker.
func (r *run) balance(ctx context.Context, who person, want uint64) (string, error) {
	ans, err := r.query(ctx, &who, contracts.Token, "balance", nil, wantOutput(want))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %s (%d workers agree)", who.name, ans.Output, ans.workers), nil
}

// checkTransferEvent: the sender's receipt carries the transfer's event,
// naming the recipient and the amount.
func checkTransferEvent(s sent, to string, amount uint64) error {
	for _, e := range s.receipt.Events {
		if e.Topic != "token.transfer" {
			continue
		}
		var ev struct {
			To     string `json:"to"`
			Amount uint64 `json:"amount"`
		}
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			return fmt.Errorf("token.transfer event %q: %w", e.Data, err)
		}
		if ev.To != to || ev.Amount != amount {
			return fmt.Errorf("token.transfer event says %d to %s, want %d to %s", ev.Amount, ev.To, amount, to)
		}
		return nil
	}
	return fmt.Errorf("the receipt has no token.transfer event (%d events)", len(s.receipt.Events))
}
