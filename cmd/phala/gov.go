package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/gov/govapi/actions"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// Governance: `phala tx gov propose|deposit|vote` and `phala query gov
// proposals|proposal|votes|params|upgrade` (gov_query.go). A proposal is a
// JSON file (package chain/gov/govapi/actions reads it); its actions are
// checked here for form and by the chain, which runs them once on a state
// it throws away, when it is proposed.

const govLifecycle = `How a proposal lives:
  deposit period  the proposal collects deposits (anyone may add with
                  phala tx gov deposit) until they reach the chain's
                  min_deposit, which starts the voting period; if the
                  deposit period ends short, the proposal is dropped and
                  its deposits refunded.
  voting period   holders vote yes, no, abstain or veto; a later vote
                  replaces an earlier one. Votes are counted once, at the
                  end of the period, each weighted by the PHA the voter
                  then holds plus the PHA it has delegated in stake pools.
  tally           quorum: the votes (all options) must reach the quorum
                  share of the eligible PHA, else the deposits are burned;
                  veto: if the veto share of the votes reaches
                  veto_threshold the proposal is vetoed and its deposits
                  burned; threshold: if yes is more than threshold of
                  yes+no+veto the proposal passes, else it is rejected and
                  the deposits refunded.
  execution       a passed proposal's actions run automatically at the end
                  of its voting period, all or nothing, with governance's
                  authority; the deposits are refunded. If an action fails
                  then, nothing changes (status failed, deposits refunded).
See the current periods and shares with phala query gov params.`

func newGovTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gov",
		Short: "Governance: propose privileged changes, deposit on proposals, vote",
		Long:  "Governance: every privileged change of a production chain (params, the attestation policy,\ngatekeepers, clusters, master key rotation, treasury spends, upgrades) is a proposal.\n\n" + govLifecycle,
	}
	cmd.AddCommand(txGovProposeCmd(), txGovDepositCmd(), txGovVoteCmd())
	return cmd
}

func txGovProposeCmd() *cobra.Command {
	var (
		k                                keyringFlags
		n                                nodeFlag
		from, file, title, desc, deposit string
		template                         string
	)
	cmd := &cobra.Command{
		Use:   "propose --from KEY --file PROPOSAL.json [--title T] [--description D] [--deposit PHA]",
		Short: "Submit a proposal from a JSON file, with its initial deposit; prints its number",
		Long: `Submit a proposal from a JSON file, with its initial deposit; prints its number.

The file (start from phala tx gov propose --print-template KIND, KIND one of
` + strings.Join(actions.TemplateKinds(), ", ") + `):

  {
    "title": "Raise compute's answer window to 20 s",
    "description": "Why, for the voters.",
    "deposit": "1000",
    "actions": [
      {"method": "compute.set_params",
       "body": {"changes": [{"path": "answer_window", "value": "20s"}]}}
    ]
  }

deposit is in PHA ("1000", "0.5") or base units ("1500u"); it must be at
least min_initial_deposit. Each action is an Authority method with its body
in JSON; param values are written as phala query gov params prints them,
except that a duration may also be written as a string such as "20s".
Unknown methods and fields are refused before anything is sent, and the
chain runs the actions once when the proposal is made, so an unknown param
or an out-of-range value fails now, not at the end of the vote.
--title, --description and --deposit override the file's.

Methods a proposal may carry:
` + methodList() + "\n\n" + govLifecycle,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if template != "" {
				raw, err := actions.Template(template)
				if err != nil {
					return err
				}
				_, err = os.Stdout.Write(raw)
				return err
			}
			if from == "" || file == "" {
				return fmt.Errorf("--from and --file are required (or --print-template KIND for an example file)")
			}
			p, err := readProposal(file, cmd, title, desc, deposit)
			if err != nil {
				return err
			}
			key, err := loadKey(&k, from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			if err := durationsInNanoseconds(ctx, c, &p); err != nil {
				return err
			}
			id, inc, err := c.Propose(ctx, key, p)
			if err != nil {
				return err
			}
			out := struct {
				txResultJSON
				Proposal uint64 `json:"proposal"`
				Status   string `json:"status,omitempty"`
			}{txResultJSON: txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, Proposal: id}
			next := ""
			if info, err := c.Proposal(ctx, id); err == nil {
				out.Status = info.Proposal.Status.String()
				next = proposalNext(info.Proposal)
			}
			return emit(out, func() string {
				return fmt.Sprintf("proposal %d submitted in block %d with a deposit of %s\n%s", id, inc.Height, p.Deposit.PHAString(), next)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the proposer's key (pays the initial deposit)")
	cmd.Flags().StringVar(&file, "file", "", "the proposal's JSON file")
	cmd.Flags().StringVar(&title, "title", "", "the title (overrides the file's)")
	cmd.Flags().StringVar(&desc, "description", "", "the description (overrides the file's)")
	cmd.Flags().StringVar(&deposit, "deposit", "", `the initial deposit in PHA ("1000", or base units "1500u"; overrides the file's)`)
	cmd.Flags().StringVar(&template, "print-template", "", "print an example proposal file of one kind and exit: "+strings.Join(actions.TemplateKinds(), ", "))
	return cmd
}

// methodList is the known Authority methods, one a line, for help.
func methodList() string {
	lines := []string{}
	for _, m := range actions.Methods() {
		lines = append(lines, fmt.Sprintf("  %-24s %s", m, actions.Summary(m)))
	}
	return strings.Join(lines, "\n")
}

// readProposal reads the file and applies the flags that override it.
func readProposal(file string, cmd *cobra.Command, title, desc, deposit string) (govapi.Propose, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return govapi.Propose{}, err
	}
	f, err := actions.ParseFile(raw)
	if err != nil {
		return govapi.Propose{}, fmt.Errorf("%s: %w", file, err)
	}
	if cmd.Flags().Changed("title") {
		f.Title = title
	}
	if cmd.Flags().Changed("description") {
		f.Description = desc
	}
	if cmd.Flags().Changed("deposit") {
		f.Deposit = deposit
	}
	p, err := f.Propose()
	if err != nil {
		return govapi.Propose{}, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

func parseProposalID(s string) (uint64, error) {
	id, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("invalid proposal number %q", s)
	}
	return id, nil
}

func proposalFlag(cmd *cobra.Command, proposal *string) {
	cmd.Flags().StringVar(proposal, "proposal", "", "proposal number")
	cmd.MarkFlagRequired("proposal")
}

func txGovDepositCmd() *cobra.Command {
	var (
		k                      keyringFlags
		n                      nodeFlag
		from, proposal, amount string
	)
	cmd := &cobra.Command{
		Use:   "deposit --from KEY --proposal ID --amount PHA",
		Short: "Add to a proposal's deposit; reaching min_deposit starts its vote",
		Long: `Add to a proposal's deposit. When the deposits reach the chain's min_deposit
the voting period starts. Deposits come back to their depositors when the
proposal passes, is rejected, fails or is dropped; they are burned when it
is vetoed or misses the quorum.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			id, err := parseProposalID(proposal)
			if err != nil {
				return err
			}
			a, err := token.ParsePHA(amount)
			if err != nil {
				return fmt.Errorf("--amount: %w", err)
			}
			key, err := loadKey(&k, from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			inc, err := c.Deposit(ctx, key, id, a)
			if err != nil {
				return err
			}
			next := ""
			if info, err := c.Proposal(ctx, id); err == nil {
				next = "\n" + proposalNext(info.Proposal)
			}
			return emit(txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, func() string {
				return fmt.Sprintf("deposited %s on proposal %d in block %d%s", a.PHAString(), id, inc.Height, next)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the depositor's key")
	proposalFlag(cmd, &proposal)
	cmd.Flags().StringVar(&amount, "amount", "", `PHA ("10", "0.5"), or base units ("1500u")`)
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("amount")
	return cmd
}

func parseOption(s string) (govapi.Option, error) {
	for _, o := range []govapi.Option{govapi.OptionYes, govapi.OptionNo, govapi.OptionAbstain, govapi.OptionVeto} {
		if strings.EqualFold(s, o.String()) {
			return o, nil
		}
	}
	return 0, fmt.Errorf("invalid --option %q: want yes, no, abstain or veto", s)
}

func txGovVoteCmd() *cobra.Command {
	var (
		k                      keyringFlags
		n                      nodeFlag
		from, proposal, option string
	)
	cmd := &cobra.Command{
		Use:   "vote --from KEY --proposal ID --option yes|no|abstain|veto",
		Short: "Vote on a proposal in its voting period (a later vote replaces yours)",
		Long: `Vote on a proposal in its voting period. You may vote again until the period
ends: the latest vote counts. Votes are weighed once, at the end of the
period: your weight is the PHA you then hold plus the PHA you have
delegated in stake pools (the pools' own accounts do not vote, so each PHA
counts once). abstain counts toward the quorum only; veto counts as no and,
if the veto share reaches veto_threshold, burns the proposal's deposits.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			id, err := parseProposalID(proposal)
			if err != nil {
				return err
			}
			o, err := parseOption(option)
			if err != nil {
				return err
			}
			key, err := loadKey(&k, from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			inc, err := c.Vote(ctx, key, id, o)
			if err != nil {
				return err
			}
			return emit(txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, func() string {
				return fmt.Sprintf("voted %s on proposal %d in block %d (counted at the end of the voting period)", o, id, inc.Height)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the voter's key")
	proposalFlag(cmd, &proposal)
	cmd.Flags().StringVar(&option, "option", "", "yes, no, abstain or veto")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("option")
	return cmd
}

// durationsInNanoseconds rewrites, in a proposal's param changes, a value
// written as a duration string ("20s") where the param is a number of
// nanoseconds, as `set-params --set` takes it: people should not have to
// count zeros. Other values are left for the chain to judge.
func durationsInNanoseconds(ctx context.Context, c *client.Client, p *govapi.Propose) error {
	for i, a := range p.Actions {
		mod, ok := strings.CutSuffix(a.Method, ".set_params")
		if !ok {
			continue
		}
		var change module.ParamChange
		if err := codec.UnmarshalCanonical(a.Body, &change); err != nil {
			return fmt.Errorf("action %d (%s): %w", i, a.Method, err)
		}
		current, err := currentParams(ctx, c, mod)
		if err != nil {
			return fmt.Errorf("action %d (%s): %w", i, a.Method, err)
		}
		rewritten := false
		for j, v := range change.Changes {
			var text string
			old, known := current[v.Path]
			if !known || len(old) == 0 || old[0] == '"' || json.Unmarshal(v.Value, &text) != nil {
				continue
			}
			if ns, ok := durationNanos(text); ok {
				change.Changes[j].Value, rewritten = ns, true
			}
		}
		if rewritten {
			if p.Actions[i].Body, err = codec.Marshal(change); err != nil {
				return err
			}
		}
	}
	return nil
}
