package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/phala-go/phala/contracts"
)

// ballotBlocks is how far ahead the demo's ballot closes on its own; alice
// closes it early.
const ballotBlocks = 100_000

// The vote: alice opens a ballot, three people vote at once (sealed
// commands), a second vote is refused, the tally stays hidden until alice
// closes the ballot, then shows the counts and nothing about who chose
// what.
func (r *run) votingSteps() []step {
	in := r.inputs
	a, b, c := r.people.alice, r.people.bob, r.people.carol
	ballot := map[string]any{"id": in.Ballot}
	// alice and carol choose the first option, bob the second.
	votes := []struct {
		who    person
		option int
	}{{a, 0}, {b, 1}, {c, 0}}
	return []step{
		{fmt.Sprintf("alice opens a ballot with options %s (sealed command)", strings.Join(in.Options, ", ")), func(ctx context.Context) (string, error) {
			h, err := r.c.LatestHeight(ctx)
			if err != nil {
				return "", err
			}
			s, err := r.commandOK(ctx, a, contracts.Voting, "create", map[string]any{"id": in.Ballot, "options": in.Options, "close_height": h + ballotBlocks})
			if err != nil {
				return "", err
			}
			return s.agreed(), nil
		}},
		{"alice, bob and carol vote at the same time (three sealed commands)", func(ctx context.Context) (string, error) {
			var wg sync.WaitGroup
			errs := make([]error, len(votes))
			blocks := make([]int64, len(votes))
			for i, v := range votes {
				wg.Go(func() {
					s, err := r.commandOK(ctx, v.who, contracts.Voting, "vote", map[string]any{"id": in.Ballot, "option": v.option})
					errs[i], blocks[i] = err, s.receipt.Height
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return "", err
			}
			return fmt.Sprintf("three votes accepted (blocks %v), each receipt the same from every worker", blocks), nil
		}},
		{"bob votes again: refused", func(ctx context.Context) (string, error) {
			s, err := r.commandRefused(ctx, b, contracts.Voting, "vote", map[string]any{"id": in.Ballot, "option": 0}, "already voted")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s %q (%s)", s.receipt.Status, s.receipt.Output, s.agreed()), nil
		}},
		{"the tally stays hidden while the ballot is open", func(ctx context.Context) (string, error) {
			ans, err := r.query(ctx, &c, contracts.Voting, "tally", ballot, wantRefused("ballot still open"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s %q", ans.Status, ans.Output), nil
		}},
		{"alice closes the ballot", func(ctx context.Context) (string, error) {
			s, err := r.commandOK(ctx, a, contracts.Voting, "close", ballot)
			if err != nil {
				return "", err
			}
			return s.agreed(), nil
		}},
		{"the tally: 2 for the first option, 1 for the second", func(ctx context.Context) (string, error) {
			want := map[string]any{"options": in.Options, "votes": []uint64{2, 1}}
			ans, err := r.query(ctx, &c, contracts.Voting, "tally", ballot, wantOutput(want))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s (%d workers agree)", ans.Output, ans.workers), nil
		}},
	}
}
