package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/gov/govapi"
)

// govParamsJSON is governance's params for people, and every param
// governance may change with its range and current value, written as a
// param change takes it.
type govParamsJSON struct {
	MinDeposit        amountJSON       `json:"min_deposit"`
	MinInitialDeposit amountJSON       `json:"min_initial_deposit"`
	DepositPeriod     string           `json:"deposit_period"`
	VotingPeriod      string           `json:"voting_period"`
	Quorum            string           `json:"quorum"`
	Threshold         string           `json:"threshold"`
	VetoThreshold     string           `json:"veto_threshold"`
	UnsafeDevAdmin    string           `json:"unsafe_dev_admin,omitempty"`
	Governable        []governableJSON `json:"governable"`
}

type governableJSON struct {
	Module string          `json:"module"`
	Method string          `json:"method"`
	Params []paramSpecJSON `json:"params"`
}

type paramSpecJSON struct {
	Path    string          `json:"path"`
	Range   string          `json:"range"`
	Current json.RawMessage `json:"current,omitempty"`
}

// jsonAt is the value at a dotted path of a JSON object, compact; nil if
// absent.
func jsonAt(doc []byte, path string) json.RawMessage {
	cur := json.RawMessage(doc)
	for _, name := range strings.Split(path, ".") {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cur, &obj); err != nil {
			return nil
		}
		next, ok := obj[name]
		if !ok {
			return nil
		}
		cur = next
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, cur); err != nil {
		return nil
	}
	return buf.Bytes()
}

func govParamsOut(info govapi.ParamsInfo) govParamsJSON {
	p := info.Params
	out := govParamsJSON{
		MinDeposit: amountOut(p.MinDeposit), MinInitialDeposit: amountOut(p.MinInitialDeposit),
		DepositPeriod: p.DepositPeriod.String(), VotingPeriod: p.VotingPeriod.String(),
		Quorum: p.Quorum.String(), Threshold: p.Threshold.String(), VetoThreshold: p.VetoThreshold.String(),
		Governable: []governableJSON{},
	}
	if info.UnsafeDevAdmin != nil {
		out.UnsafeDevAdmin = info.UnsafeDevAdmin.String()
	}
	for _, g := range info.Governable {
		m := governableJSON{Module: g.Module, Method: g.Method, Params: []paramSpecJSON{}}
		for _, s := range g.Params {
			m.Params = append(m.Params, paramSpecJSON{Path: s.Path, Range: s.Range, Current: jsonAt(g.Current, s.Path)})
		}
		out.Governable = append(out.Governable, m)
	}
	return out
}

func govParamsText(p govParamsJSON) string {
	admin := "none: every privileged change is a proposal"
	if p.UnsafeDevAdmin != "" {
		admin = p.UnsafeDevAdmin + " (development only: may make privileged changes without a proposal)"
	}
	parts := []string{rowsText("", []row{
		{"min deposit", p.MinDeposit.PHA + " PHA to start the vote"},
		{"min initial deposit", p.MinInitialDeposit.PHA + " PHA to submit"},
		{"deposit period", p.DepositPeriod},
		{"voting period", p.VotingPeriod},
		{"quorum", p.Quorum + " of the eligible PHA must vote"},
		{"threshold", "more than " + p.Threshold + " of yes+no+veto must be yes"},
		{"veto threshold", p.VetoThreshold + " of the votes as veto burns the deposits"},
		{"unsafe dev admin", admin},
	})}
	for _, g := range p.Governable {
		rows := []row{}
		for _, s := range g.Params {
			rows = append(rows, row{"  " + s.Path, fmt.Sprintf("%s  (%s)", s.Current, s.Range)})
		}
		parts = append(parts, fmt.Sprintf("%s (action %s; values as a param change writes them)\n%s", g.Module, g.Method, rowsText("", rows)))
	}
	return strings.Join(parts, "\n")
}

func queryGovParamsCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "params", Short: "Governance's rules, and every param a proposal may change with its range and current value", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			info, err := c.GovParams(ctx)
			if err != nil {
				return err
			}
			out := govParamsOut(info)
			return emit(out, func() string { return govParamsText(out) })
		},
	}
	n.register(cmd)
	return cmd
}

func queryGovUpgradeCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "upgrade", Short: "The software upgrade governance scheduled, if any: nodes stop before its height until they run a release that knows it", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			info, err := c.Upgrade(ctx)
			if err != nil {
				return err
			}
			_, height := chainNow(ctx, c)
			type planJSON struct {
				Name         string `json:"name"`
				Height       int64  `json:"height"`
				Info         string `json:"info"`
				BlocksToGo   int64  `json:"blocks_to_go"`
				LatestHeight int64  `json:"latest_height"`
			}
			out := struct {
				Planned *planJSON `json:"planned"`
			}{}
			if p := info.Planned; p != nil {
				out.Planned = &planJSON{Name: p.Name, Height: p.Height, Info: p.Info, BlocksToGo: p.Height - height, LatestHeight: height}
			}
			return emit(out, func() string {
				if out.Planned == nil {
					return "no upgrade scheduled"
				}
				p := out.Planned
				return rowsText("", []row{{"upgrade", p.Name}, {"height", fmt.Sprintf("%d (%d blocks from the latest, %d)", p.Height, p.BlocksToGo, p.LatestHeight)}, {"info", p.Info}})
			})
		},
	}
	n.register(cmd)
	return cmd
}
