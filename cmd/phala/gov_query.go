package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/gov/govapi/actions"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

func newGovQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "gov", Short: "Governance: proposals, votes, params, the scheduled upgrade"}
	cmd.AddCommand(queryGovProposalsCmd(), queryGovProposalCmd(), queryGovVotesCmd(), queryGovParamsCmd(), queryGovUpgradeCmd())
	return cmd
}

// chainNow is the latest block's time and height: periods end in block
// time, so remaining durations count from it rather than from this
// machine's clock.
func chainNow(ctx context.Context, c *client.Client) (time.Time, int64) {
	st, err := c.Status(ctx)
	if err != nil {
		return time.Now(), 0
	}
	return st.SyncInfo.LatestBlockTime, st.SyncInfo.LatestBlockHeight
}

// untilText says how far a moment is from now: "in 25s", "ended 3m ago".
func untilText(ns int64, now time.Time) string {
	if ns == 0 {
		return ""
	}
	d := time.Unix(0, ns).Sub(now).Round(time.Second)
	if d > 0 {
		return "in " + d.String()
	}
	return "ended " + (-d).String() + " ago"
}

func parseStatus(s string) (govapi.Status, error) {
	names := []string{}
	for st := govapi.StatusDeposit; st <= govapi.StatusDropped; st++ {
		if strings.EqualFold(s, st.String()) {
			return st, nil
		}
		names = append(names, st.String())
	}
	return 0, fmt.Errorf("invalid --status %q: want one of %s", s, strings.Join(names, ", "))
}

// proposalNext says what a proposal waits for.
func proposalNext(p govapi.Proposal) string {
	switch p.Status {
	case govapi.StatusDeposit:
		return fmt.Sprintf("status deposit: collecting deposits until %s (phala tx gov deposit); the vote starts at min_deposit", unixText(p.DepositEnd))
	case govapi.StatusVoting:
		return fmt.Sprintf("status voting: until %s (phala tx gov vote)", unixText(p.VotingEnd))
	}
	return "status " + p.Status.String()
}

// actionJSON is an action as people write it; a body this client cannot
// read is shown in hex with the reason.
type actionJSON struct {
	Method  string          `json:"method"`
	Body    json.RawMessage `json:"body,omitempty"`
	BodyHex string          `json:"body_hex,omitempty"`
	Error   string          `json:"error,omitempty"`
}

func actionsOut(list []govapi.Action) []actionJSON {
	out := make([]actionJSON, len(list))
	for i, a := range list {
		shown, err := actions.Decode(a)
		if err != nil {
			out[i] = actionJSON{Method: a.Method, BodyHex: hex.EncodeToString(a.Body), Error: err.Error()}
			continue
		}
		out[i] = actionJSON{Method: a.Method, Body: shown.Body}
	}
	return out
}

type amountJSON struct {
	Units string `json:"units"`
	PHA   string `json:"pha"`
}

func amountOut(a token.Amount) amountJSON { return amountJSON{Units: a.String(), PHA: actions.PHA(a)} }

// tallyJSON is a tally with its shares: each option of the eligible PHA
// and of the decided votes (yes+no+veto), and the three shares the rules
// compare against quorum, threshold and veto_threshold.
type tallyJSON struct {
	Yes      amountJSON `json:"yes"`
	No       amountJSON `json:"no"`
	Abstain  amountJSON `json:"abstain"`
	Veto     amountJSON `json:"veto"`
	Eligible amountJSON `json:"eligible"`
	Voters   uint64     `json:"voters"`

	OfEligible map[string]string `json:"of_eligible"` // yes, no, abstain, veto, turnout
	OfDecided  map[string]string `json:"of_decided"`  // yes, no, veto

	Turnout       string `json:"turnout"`    // all votes / eligible, against quorum
	YesShare      string `json:"yes_share"`  // yes / (yes+no+veto), against threshold
	VetoShare     string `json:"veto_share"` // veto / all votes, against veto_threshold
	Quorum        string `json:"quorum,omitempty"`
	Threshold     string `json:"threshold,omitempty"`
	VetoThreshold string `json:"veto_threshold,omitempty"`
	Outcome       string `json:"outcome,omitempty"` // for a current tally: what counting now would give
}

func sum(as ...token.Amount) *big.Int {
	s := new(big.Int)
	for _, a := range as {
		s.Add(s, a.Big())
	}
	return s
}

// share is num/den as a percentage, rounded down; "-" for an empty whole.
func share(num, den *big.Int) string {
	if den.Sign() == 0 {
		return "-"
	}
	p := new(big.Int).Mul(num, big.NewInt(int64(tokenomics.Million)))
	p.Quo(p, den)
	return tokenomics.Permill(p.Uint64()).String()
}

// ratioCmp compares num/den with p exactly.
func ratioCmp(num, den *big.Int, p tokenomics.Permill) int {
	l := new(big.Int).Mul(num, big.NewInt(int64(tokenomics.Million)))
	r := new(big.Int).Mul(den, big.NewInt(int64(p)))
	return l.Cmp(r)
}

// tallyOutcome applies governance's rules to a tally: votes (all options)
// at least quorum of the eligible, then veto at least veto_threshold of
// the votes, then yes more than threshold of the decided.
func tallyOutcome(t govapi.Tally, p govapi.Params) string {
	votes, decided := sum(t.Yes, t.No, t.Abstain, t.Veto), sum(t.Yes, t.No, t.Veto)
	switch {
	case votes.Sign() == 0 || ratioCmp(votes, t.Eligible.Big(), p.Quorum) < 0:
		return "no_quorum (deposits burned)"
	case ratioCmp(t.Veto.Big(), votes, p.VetoThreshold) >= 0:
		return "vetoed (deposits burned)"
	case decided.Sign() > 0 && ratioCmp(t.Yes.Big(), decided, p.Threshold) > 0:
		return "passed (actions run, deposits refunded)"
	}
	return "rejected (deposits refunded)"
}

func tallyOut(t govapi.Tally, p *govapi.Params, current bool) tallyJSON {
	votes, decided, eligible := sum(t.Yes, t.No, t.Abstain, t.Veto), sum(t.Yes, t.No, t.Veto), t.Eligible.Big()
	out := tallyJSON{
		Yes: amountOut(t.Yes), No: amountOut(t.No), Abstain: amountOut(t.Abstain), Veto: amountOut(t.Veto), Eligible: amountOut(t.Eligible), Voters: t.Voters,
		OfEligible: map[string]string{"yes": share(t.Yes.Big(), eligible), "no": share(t.No.Big(), eligible), "abstain": share(t.Abstain.Big(), eligible),
			"veto": share(t.Veto.Big(), eligible), "turnout": share(votes, eligible)},
		OfDecided: map[string]string{"yes": share(t.Yes.Big(), decided), "no": share(t.No.Big(), decided), "veto": share(t.Veto.Big(), decided)},
		Turnout:   share(votes, eligible), YesShare: share(t.Yes.Big(), decided), VetoShare: share(t.Veto.Big(), votes),
	}
	if p != nil {
		out.Quorum, out.Threshold, out.VetoThreshold = p.Quorum.String(), p.Threshold.String(), p.VetoThreshold.String()
		if current {
			out.Outcome = tallyOutcome(t, *p)
		}
	}
	return out
}

func tallyText(t tallyJSON, heading string) string {
	rows := []row{}
	for _, o := range []struct {
		name string
		a    amountJSON
	}{{"yes", t.Yes}, {"no", t.No}, {"abstain", t.Abstain}, {"veto", t.Veto}} {
		v := fmt.Sprintf("%s PHA  %s of eligible", o.a.PHA, t.OfEligible[o.name])
		if d, ok := t.OfDecided[o.name]; ok {
			v += ", " + d + " of decided"
		}
		rows = append(rows, row{"  " + o.name, v})
	}
	voters := fmt.Sprintf("%d voters", t.Voters)
	if t.Voters == 1 {
		voters = "1 voter"
	}
	rows = append(rows, row{"  eligible", t.Eligible.PHA + " PHA, " + voters})
	rows = append(rows, row{"  turnout", against(t.Turnout, "quorum", t.Quorum)},
		row{"  yes of decided", against(t.YesShare, "threshold, more than", t.Threshold)},
		row{"  veto of votes", against(t.VetoShare, "veto threshold", t.VetoThreshold)})
	if t.Outcome != "" {
		rows = append(rows, row{"  counted now", t.Outcome})
	}
	return heading + "\n" + rowsText("", rows)
}

func against(v, rule, limit string) string {
	if limit == "" {
		return v
	}
	return fmt.Sprintf("%s (%s %s)", v, rule, limit)
}

type proposalJSON struct {
	ID           uint64       `json:"id"`
	Title        string       `json:"title"`
	Description  string       `json:"description"`
	Status       string       `json:"status"`
	Proposer     string       `json:"proposer"`
	SubmitHeight int64        `json:"submit_height"`
	SubmitTime   string       `json:"submit_time"`
	DepositEnd   string       `json:"deposit_end"`
	VotingStart  string       `json:"voting_start,omitempty"`
	VotingEnd    string       `json:"voting_end,omitempty"`
	Remaining    string       `json:"remaining,omitempty"` // of the current period, from the latest block's time
	Deposit      amountJSON   `json:"total_deposit"`
	MinDeposit   *amountJSON  `json:"min_deposit,omitempty"`
	Actions      []actionJSON `json:"actions"`
	Tally        *tallyJSON   `json:"tally,omitempty"`         // when ended
	Current      *tallyJSON   `json:"current_tally,omitempty"` // while voting
	EndHeight    int64        `json:"end_height,omitempty"`
	Outcome      string       `json:"outcome,omitempty"`
}

func proposalOut(info govapi.ProposalInfo, params *govapi.Params, now time.Time) proposalJSON {
	p := info.Proposal
	out := proposalJSON{
		ID: p.ID, Title: p.Title, Description: p.Description, Status: p.Status.String(), Proposer: p.Proposer.String(),
		SubmitHeight: p.SubmitHeight, SubmitTime: unixText(p.SubmitTime), DepositEnd: unixText(p.DepositEnd),
		VotingStart: unixText(p.VotingStart), VotingEnd: unixText(p.VotingEnd), Deposit: amountOut(p.TotalDeposit),
		Actions: actionsOut(p.Actions), EndHeight: p.EndHeight, Outcome: p.Outcome,
	}
	switch p.Status {
	case govapi.StatusDeposit:
		out.Remaining = untilText(p.DepositEnd, now)
	case govapi.StatusVoting:
		out.Remaining = untilText(p.VotingEnd, now)
	}
	if params != nil {
		m := amountOut(params.MinDeposit)
		out.MinDeposit = &m
	}
	if p.EndHeight != 0 && p.Status != govapi.StatusDropped {
		t := tallyOut(p.Tally, params, false)
		out.Tally = &t
	}
	if info.Current != nil {
		t := tallyOut(*info.Current, params, true)
		out.Current = &t
	}
	return out
}

func proposalText(p proposalJSON) string {
	deposit := p.Deposit.PHA + " PHA"
	if p.MinDeposit != nil {
		deposit += fmt.Sprintf(" (min_deposit %s PHA)", p.MinDeposit.PHA)
	}
	rows := []row{{"status", p.Status}, {"proposer", p.Proposer}, {"submitted", fmt.Sprintf("block %d, %s", p.SubmitHeight, p.SubmitTime)},
		{"deposit", deposit}, {"deposit end", p.DepositEnd}}
	if p.VotingStart != "" {
		rows = append(rows, row{"voting", p.VotingStart + " to " + p.VotingEnd})
	}
	if p.Remaining != "" {
		rows = append(rows, row{"period ends", p.Remaining})
	}
	if p.EndHeight != 0 {
		rows = append(rows, row{"ended", fmt.Sprintf("block %d", p.EndHeight)})
	}
	if p.Outcome != "" {
		rows = append(rows, row{"outcome", p.Outcome})
	}
	parts := []string{fmt.Sprintf("proposal %d: %s", p.ID, p.Title), rowsText("", rows)}
	if p.Description != "" {
		parts = append(parts, "description\n  "+strings.ReplaceAll(strings.TrimSpace(p.Description), "\n", "\n  "))
	}
	acts := []string{"actions (run with governance's authority if it passes)"}
	for i, a := range p.Actions {
		if a.Error != "" {
			acts = append(acts, fmt.Sprintf("  %d. %s body %s (%s)", i+1, a.Method, a.BodyHex, a.Error))
			continue
		}
		acts = append(acts, fmt.Sprintf("  %d. %s %s", i+1, a.Method, a.Body))
	}
	if len(p.Actions) == 0 {
		acts = append(acts, "  none")
	}
	parts = append(parts, strings.Join(acts, "\n"))
	if p.Current != nil {
		parts = append(parts, tallyText(*p.Current, "tally so far (weights as of now; counted at the end of the voting period)"))
	}
	if p.Tally != nil {
		parts = append(parts, tallyText(*p.Tally, "tally"))
	}
	return strings.Join(parts, "\n")
}

// govParams reads governance's params for the shares; nil if the query
// fails (the proposal is still worth showing).
func govParams(ctx context.Context, c *client.Client) *govapi.Params {
	info, err := c.GovParams(ctx)
	if err != nil {
		return nil
	}
	return &info.Params
}

func queryGovProposalCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "proposal ID", Short: "A proposal: status, periods, deposit, actions, tally against quorum, threshold and veto", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := parseProposalID(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			info, err := c.Proposal(ctx, id)
			if err != nil {
				return err
			}
			now, _ := chainNow(ctx, c)
			out := proposalOut(info, govParams(ctx, c), now)
			return emit(out, func() string { return proposalText(out) })
		},
	}
	n.register(cmd)
	return cmd
}

func queryGovProposalsCmd() *cobra.Command {
	var (
		n      nodeFlag
		status string
		limit  uint32
	)
	cmd := &cobra.Command{
		Use: "proposals [--status deposit|voting|passed|rejected|vetoed|no_quorum|failed|dropped]", Short: "Proposals, newest first", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			q := govapi.ListQuery{Limit: limit}
			if status != "" {
				st, err := parseStatus(status)
				if err != nil {
					return err
				}
				q.Status = st
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			list, err := c.Proposals(ctx, q)
			if err != nil {
				return err
			}
			now, _ := chainNow(ctx, c)
			params := govParams(ctx, c)
			out := make([]proposalJSON, len(list))
			lines := []string{}
			for i, p := range list {
				out[i] = proposalOut(govapi.ProposalInfo{Proposal: p}, params, now)
				line := fmt.Sprintf("%-5d %-10s %s", p.ID, p.Status, p.Title)
				if out[i].Remaining != "" {
					line += "  (period ends " + out[i].Remaining + ")"
				}
				lines = append(lines, line)
			}
			if len(lines) == 0 {
				lines = append(lines, "no proposals")
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	n.register(cmd)
	cmd.Flags().StringVar(&status, "status", "", "only proposals of this status")
	cmd.Flags().Uint32Var(&limit, "limit", 0, "at most this many (default: all)")
	return cmd
}

func queryGovVotesCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "votes ID", Short: "A proposal's votes (each voter's latest; weights are read when the vote ends)", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := parseProposalID(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			votes, err := c.Votes(ctx, id)
			if err != nil {
				return err
			}
			type voteJSON struct {
				Voter  string `json:"voter"`
				Option string `json:"option"`
				Height int64  `json:"height"`
			}
			out := make([]voteJSON, len(votes))
			lines := []string{}
			for i, v := range votes {
				out[i] = voteJSON{Voter: v.Voter.String(), Option: v.Option.String(), Height: v.Height}
				lines = append(lines, fmt.Sprintf("%s  %-7s block %d", v.Voter, v.Option, v.Height))
			}
			if len(lines) == 0 {
				lines = append(lines, "no votes")
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	n.register(cmd)
	return cmd
}
