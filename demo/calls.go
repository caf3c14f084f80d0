package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/workerwire"
)

// Commands and queries as the demo sends them: every worker of the
// cluster is asked, and their answers must be the same (they run the same
// code on the same sealed inputs in the same order).

// sent is a command whose receipt every worker gave, all equal.
type sent struct {
	client.CommandSent
	receipt workerwire.Receipt
	workers int
}

// command sends method(args) as who to example name's contract, with
// value moved to the contract's account, and collects its receipt from
// every worker.
func (r *run) command(ctx context.Context, who person, name, method string, args any, value token.Amount) (sent, error) {
	id := r.ids[name]
	cs, err := r.c.Command(ctx, who.key, id, method, mustJSON(args), client.CommandOptions{Value: value})
	if err != nil {
		return sent{}, fmt.Errorf("%s: %w", method, err)
	}
	out := sent{CommandSent: cs}
	var firstURL string
	for _, u := range r.cfg.Workers {
		a, err := r.c.WaitReceipt(ctx, cs.Seq, cs.ReplyKey, client.ReceiptOptions{Workers: []string{u}, Cluster: r.cluster})
		if err != nil {
			return out, fmt.Errorf("%s (command %d, block %d): worker %s: %w", method, cs.Seq, cs.Height, u, err)
		}
		if out.workers == 0 {
			out.receipt, firstURL = a.Receipt, a.URL
		} else if !sameReceipt(a.Receipt, out.receipt) {
			return out, fmt.Errorf("%s (command %d): the workers disagree: %s says %s, %s says %s", method, cs.Seq, firstURL, describeReceipt(out.receipt), a.URL, describeReceipt(a.Receipt))
		}
		out.workers++
	}
	if out.workers == 0 {
		return out, client.ErrNoWorkers
	}
	return out, nil
}

// commandOK is command, without value, that must succeed.
func (r *run) commandOK(ctx context.Context, who person, name, method string, args any) (sent, error) {
	return r.commandPaying(ctx, who, name, method, args, token.Amount{})
}

// commandPaying is command with value that must succeed.
func (r *run) commandPaying(ctx context.Context, who person, name, method string, args any, value token.Amount) (sent, error) {
	s, err := r.command(ctx, who, name, method, args, value)
	if err == nil {
		err = s.receipt.Err()
	}
	return s, err
}

// commandRefused is command that the contract must refuse with an error
// containing want.
func (r *run) commandRefused(ctx context.Context, who person, name, method string, args any, want string) (sent, error) {
	s, err := r.command(ctx, who, name, method, args, token.Amount{})
	if err != nil {
		return s, err
	}
	if s.receipt.Status == contractsapi.StatusOK {
		return s, fmt.Errorf("%s was accepted (%s); it should have been refused with %q", method, describeReceipt(s.receipt), want)
	}
	if !strings.Contains(string(s.receipt.Output), want) {
		return s, fmt.Errorf("%s was refused with %s %q, want %q", method, s.receipt.Status, s.receipt.Output, want)
	}
	return s, nil
}

// sameReceipt compares every field (status, gas, output, events,
// payouts, messages) in the receipts' canonical encoding.
func sameReceipt(a, b workerwire.Receipt) bool {
	x, errA := codec.Marshal(a)
	y, errB := codec.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// paid reports whether the receipt holds a payout of amount to to.
func (s sent) paid(to person, amount token.Amount) bool {
	return slices.ContainsFunc(s.receipt.Payouts, func(p contractsapi.Payout) bool { return p.To == to.address && p.Amount == amount })
}

func describeReceipt(rc workerwire.Receipt) string {
	return fmt.Sprintf("%s, gas %d, block %d, output %q, %d events", rc.Status, rc.GasUsed, rc.Height, rc.Output, len(rc.Events))
}

// agreed says how many workers gave the same receipt.
func (s sent) agreed() string {
	return fmt.Sprintf("block %d, gas %d; receipts of %d workers agree", s.receipt.Height, s.receipt.GasUsed, s.workers)
}

// answer is a query's outcome, the same from every worker.
type answer struct {
	client.QueryAnswer
	workers int
}

// query asks every worker method(args) of example name's contract as who
// (nil: anonymous) until all of them answer alike and check accepts the
// answer, or ctx ends (a worker a block behind may still answer from
// before the latest command).
func (r *run) query(ctx context.Context, who *person, name, method string, args any, check func(client.QueryAnswer) error) (answer, error) {
	o := client.QueryOptions{}
	if who != nil {
		o.Key = who.key
	}
	var last error
	for {
		a, err := r.queryAll(ctx, o, name, method, mustJSON(args))
		if err == nil {
			if err = check(a.QueryAnswer); err == nil {
				return a, nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return a, fmt.Errorf("%s: %w (gave up: %v)", method, last, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// queryAll asks each worker once; their answers must be equal.
func (r *run) queryAll(ctx context.Context, o client.QueryOptions, name, method string, args []byte) (answer, error) {
	var out answer
	for _, u := range r.cfg.Workers {
		o.Workers = []string{u}
		a, err := r.c.ContractQuery(ctx, r.ids[name], method, args, o)
		if err != nil {
			return out, err
		}
		if out.workers > 0 && (a.Status != out.Status || !bytes.Equal(a.Output, out.Output)) {
			return out, fmt.Errorf("the workers disagree: %s answers %s %q, %s answers %s %q", out.URL, out.Status, out.Output, a.URL, a.Status, a.Output)
		}
		if out.workers == 0 {
			out.QueryAnswer = a
		}
		out.workers++
	}
	if out.workers == 0 {
		return out, client.ErrNoWorkers
	}
	return out, nil
}

// wantOutput is a query check: status ok and the output, as JSON, equal
// to want.
func wantOutput(want any) func(client.QueryAnswer) error {
	return func(a client.QueryAnswer) error {
		if err := a.Err(); err != nil {
			return err
		}
		if w := mustJSON(want); !jsonEqual(a.Output, w) {
			return fmt.Errorf("answered %s, want %s", a.Output, w)
		}
		return nil
	}
}

// wantRefused is a query check: refused, with the contract's error
// containing text.
func wantRefused(text string) func(client.QueryAnswer) error {
	return func(a client.QueryAnswer) error {
		if a.Status == contractsapi.StatusOK {
			return fmt.Errorf("answered %s; it should have been refused", a.Output)
		}
		if !strings.Contains(string(a.Output), text) {
			return fmt.Errorf("refused with %s %q, want %q", a.Status, a.Output, text)
		}
		return nil
	}
}

// jsonEqual compares two JSON texts as values (numbers exactly).
func jsonEqual(a, b []byte) bool {
	x, errA := decodeJSON(a)
	y, errB := decodeJSON(b)
	return errA == nil && errB == nil && fmt.Sprint(x) == fmt.Sprint(y)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// pollEvery is how often a condition is asked again.
const pollEvery = 200 * time.Millisecond

// poll asks done until it says so, or ctx ends (with the last error).
func poll(ctx context.Context, done func() (bool, error)) error {
	var last error
	for {
		ok, err := done()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(pollEvery):
		}
	}
}

// mustJSON encodes the demo's own argument literals (maps and slices of
// strings and numbers, which always encode); nil is no arguments, {}.
func mustJSON(v any) []byte {
	if v == nil {
		return []byte("{}")
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("demo: arguments of %T do not encode: %v", v, err))
	}
	return b
}

// abbrev shortens a long hex string for the text output.
func abbrev(h string) string {
	if len(h) <= 16 {
		return h
	}
	return h[:8] + "…" + h[len(h)-4:]
}
