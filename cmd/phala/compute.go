package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// Computation: `phala tx compute start|stop|set-params` and `phala query
// session|sessions|reward-pool|emission|compute-params`.

func newComputeTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Start and stop workers computing with stake from their pool"}
	cmd.AddCommand(txComputeStartCmd(), txComputeStopCmd(), setParamsCmd(computeapi.Name))
	return cmd
}

func computeQueryCmds() []*cobra.Command {
	return []*cobra.Command{querySessionCmd(), querySessionsCmd(), queryRewardPoolCmd(), queryEmissionCmd(), queryComputeParamsCmd()}
}

// parseComputeWorker reads a worker's identity key in hex.
func parseComputeWorker(s string) (ed25519.PublicKey, error) {
	id, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(id) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("invalid worker %q: want its identity key, 64 hex digits (phala query workers lists them)", s)
	}
	return id, nil
}

func workerFlag(cmd *cobra.Command, worker *string) {
	cmd.Flags().StringVar(worker, "worker", "", "the worker's identity key (hex)")
	cmd.MarkFlagRequired("worker")
}

func txComputeStartCmd() *cobra.Command {
	var worker, stake string
	return economyTxCmd("start --from OWNER --worker HEX --stake PHA",
		"Start a worker of your pool computing; the stake (at least k·sqrt(P) PHA, see phala query compute-params) comes from the pool's free stake", computeapi.MethodStart,
		"the key of the owner of the worker's pool",
		func(cmd *cobra.Command) {
			workerFlag(cmd, &worker)
			cmd.Flags().StringVar(&stake, "stake", "", `the session's stake from the pool, in PHA ("2500") or base units ("1500u")`)
			cmd.MarkFlagRequired("stake")
		},
		func() (any, error) {
			w, err := parseComputeWorker(worker)
			if err != nil {
				return nil, err
			}
			a, err := token.ParsePHA(stake)
			if err != nil {
				return nil, fmt.Errorf("--stake: %w", err)
			}
			return computeapi.Start{Worker: w, Stake: a}, nil
		},
		func(inc client.Included) string {
			if es := txEvents(inc, computeapi.EventStarted); len(es) > 0 {
				e := es[0]
				v, _ := fixed.Parse(e["v"])
				return inBlock("worker %s computing: session %s of pool %s, stake %s, V %s (phala query session %s)", inc,
					worker, e["session"], e["pool"], eventAmount(e, "stake").PHAString(), v.Text(6), worker)
			}
			return inBlock("worker %s computing (phala query session %s)", inc, worker, worker)
		})
}

func txComputeStopCmd() *cobra.Command {
	var worker string
	return economyTxCmd("stop --from OWNER --worker HEX", "Stop a worker of your pool; its stake returns to the pool after the cool-down", computeapi.MethodStop,
		"the key of the owner of the worker's pool",
		func(cmd *cobra.Command) { workerFlag(cmd, &worker) },
		func() (any, error) {
			w, err := parseComputeWorker(worker)
			return computeapi.Stop{Worker: w}, err
		},
		func(inc client.Included) string {
			ends := "the cool-down ends"
			if es := txEvents(inc, computeapi.EventStopped); len(es) > 0 && es[0]["cool_down_ends"] != "" {
				ends = es[0]["cool_down_ends"]
			}
			return inBlock("worker %s cooling down; its stake returns to the pool at %s", inc, worker, ends)
		})
}

// sessionJSON is a session for people: amounts in base units (exact) and
// PHA, times as RFC 3339.
type sessionJSON struct {
	ID            uint64 `json:"id"`
	Worker        string `json:"worker"`
	Pool          uint64 `json:"pool"`
	Account       string `json:"account"`
	State         string `json:"state"`
	Score         uint64 `json:"p"`
	Confidence    uint8  `json:"confidence"`
	ConfidenceC   string `json:"confidence_score"`
	InitialV      string `json:"initial_v"`
	V             string `json:"v"`
	Stake         string `json:"stake"`
	StakePHA      string `json:"stake_pha"`
	Rewards       string `json:"rewards"`
	RewardsPHA    string `json:"rewards_pha"`
	Slashed       string `json:"slashed"`
	Started       string `json:"started"`
	StartHeight   int64  `json:"start_height"`
	Stopped       string `json:"stopped,omitempty"`
	CoolDownEnds  string `json:"cool_down_ends,omitempty"`
	LastChallenge int64  `json:"last_challenge"`
	LastAnswer    int64  `json:"last_answer"`
	SettledPeriod uint64 `json:"settled_period"`
	Released      bool   `json:"released"`
	Reason        string `json:"reason,omitempty"`
}

func unixText(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339)
}

func sessionOut(s computeapi.Session) sessionJSON {
	return sessionJSON{
		ID: s.ID, Worker: hex.EncodeToString(s.Worker), Pool: s.Pool, Account: s.Account.String(), State: s.State.String(),
		Score: s.Score, Confidence: uint8(s.Confidence), ConfidenceC: s.Confidence.Score().String(), InitialV: s.InitialV.String(), V: s.V.String(),
		Stake: s.Stake.String(), StakePHA: s.Stake.PHAString(), Rewards: s.Rewards.String(), RewardsPHA: s.Rewards.PHAString(),
		Slashed: s.Slashed.String(), Started: unixText(s.StartedAt), StartHeight: s.StartHeight, Stopped: unixText(s.StoppedAt),
		CoolDownEnds: unixText(s.CoolDownEnds), LastChallenge: s.LastChallenge, LastAnswer: s.LastAnswer,
		SettledPeriod: s.SettledPeriod, Released: s.Released, Reason: s.Reason,
	}
}

func sessionText(s computeapi.Session) string {
	lines := []string{
		fmt.Sprintf("session %d of worker %x, pool %d: %s", s.ID, s.Worker, s.Pool, s.State),
		fmt.Sprintf("P %d, confidence level %d (c = %s), V %s (initially %s)", s.Score, s.Confidence, s.Confidence.Score().Text(2), s.V.Text(6), s.InitialV.Text(6)),
		fmt.Sprintf("stake %s, rewards %s (before the treasury's part), slashed %s", s.Stake.PHAString(), s.Rewards.PHAString(), s.Slashed.PHAString()),
		fmt.Sprintf("started %s at block %d; %s; settled to period %d", unixText(s.StartedAt), s.StartHeight, lastAnswerText(s), s.SettledPeriod),
	}
	if s.StoppedAt != 0 {
		lines = append(lines, fmt.Sprintf("stopped %s (%s); cool-down ends %s", unixText(s.StoppedAt), s.Reason, unixText(s.CoolDownEnds)))
	}
	if s.Released {
		lines = append(lines, "released: the stake went back to the pool")
	}
	return strings.Join(lines, "\n")
}

func lastAnswerText(s computeapi.Session) string {
	if s.LastChallenge == 0 {
		return "no challenge answered yet"
	}
	return fmt.Sprintf("last challenge answered: block %d's (in block %d)", s.LastChallenge, s.LastAnswer)
}

// querySessionCmd: a worker's current or last session, or one by --id.
func querySessionCmd() *cobra.Command {
	var (
		n  nodeFlag
		id uint64
	)
	cmd := &cobra.Command{
		Use: "session [WORKER_HEX] [--id N]", Short: "A computing session: P, V, state, last challenge, rewards", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if (len(args) == 1) == (id != 0) {
				return fmt.Errorf("name a worker or a session --id, one of them")
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			var s computeapi.Session
			if id != 0 {
				if s, err = c.Session(ctx, id); err != nil {
					return err
				}
			} else {
				w, err := parseComputeWorker(args[0])
				if _, isNumber := strconv.ParseUint(args[0], 10, 64); err != nil && isNumber == nil {
					return fmt.Errorf("%q is not a worker's identity key: for session %s, use --id %s", args[0], args[0], args[0])
				}
				if err != nil {
					return err
				}
				info, err := c.ComputeWorker(ctx, w)
				if err != nil {
					return err
				}
				if info.Session == nil {
					return emit(struct {
						Worker string `json:"worker"`
						Score  uint64 `json:"p"`
						State  string `json:"state"`
					}{hex.EncodeToString(w), info.Worker.Score, info.State.String()}, func() string {
						return fmt.Sprintf("worker %x: P %d, %s, never computed", w, info.Worker.Score, info.State)
					})
				}
				s = *info.Session
			}
			return emit(sessionOut(s), func() string { return sessionText(s) })
		},
	}
	n.register(cmd)
	cmd.Flags().Uint64Var(&id, "id", 0, "a session's number")
	return cmd
}

func querySessionsCmd() *cobra.Command {
	var (
		n    nodeFlag
		pool uint64
	)
	cmd := &cobra.Command{
		Use: "sessions [--pool N]", Short: "Sessions not yet released, of one pool or all", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			all, err := c.Sessions(ctx, pool)
			if err != nil {
				return err
			}
			out := make([]sessionJSON, len(all))
			lines := []string{}
			for i, s := range all {
				out[i] = sessionOut(s)
				lines = append(lines, fmt.Sprintf("session %-4d pool %-4d %-13s P %-6d V %-24s stake %s  worker %x", s.ID, s.Pool, s.State, s.Score, s.V.Text(6), s.Stake.PHAString(), s.Worker))
			}
			if len(lines) == 0 {
				lines = append(lines, "no sessions")
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	n.register(cmd)
	cmd.Flags().Uint64Var(&pool, "pool", 0, "one pool's (default: every pool's)")
	return cmd
}

func queryRewardPoolCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "reward-pool", Short: "The reward pool: balance, emitted, paid to pools and the treasury, periods settled", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			r, err := c.RewardPool(ctx)
			if err != nil {
				return err
			}
			out := map[string]any{
				"balance": r.Balance.String(), "balance_pha": r.Balance.PHAString(), "emitted": r.Emitted.String(), "emitted_pha": r.Emitted.PHAString(),
				"paid_to_pools": r.Paid.String(), "paid_to_pools_pha": r.Paid.PHAString(), "to_treasury": r.ToTreasury.String(), "to_treasury_pha": r.ToTreasury.PHAString(),
				"slashed": r.Slashed.String(), "slashed_pha": r.Slashed.PHAString(), "period": r.Period, "next_period_ends": unixText(r.NextEnds), "computing": r.Computing,
			}
			return emit(out, func() string {
				return fmt.Sprintf(`reward pool    %s
emitted        %s (by the schedule so far)
paid to pools  %s
to treasury    %s (its share of rewards)
slashed        %s (stake sent to the treasury)
settled        up to period %d; the next ends %s
computing      %d sessions`, r.Balance.PHAString(), r.Emitted.PHAString(), r.Paid.PHAString(), r.ToTreasury.PHAString(), r.Slashed.PHAString(), r.Period, unixText(r.NextEnds), r.Computing)
			})
		},
	}
	n.register(cmd)
	return cmd
}

func queryEmissionCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "emission", Short: "The reward emission schedule in time: budget per day now, decay, spans", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			e, err := c.Emission(ctx)
			if err != nil {
				return err
			}
			type spanJSON struct {
				From      string `json:"from"`
				To        string `json:"to"`
				Budget    string `json:"budget"`
				BudgetPHA string `json:"budget_pha"`
			}
			spans := make([]spanJSON, len(e.Spans))
			lines := []string{}
			for i, s := range e.Spans {
				spans[i] = spanJSON{From: unixText(s.From), To: unixText(s.To), Budget: s.Budget.String(), BudgetPHA: s.Budget.PHAString()}
				lines = append(lines, fmt.Sprintf("  %s → %s  %s", unixText(s.From), unixText(s.To), s.Budget.PHAString()))
			}
			start := unixText(e.Start)
			if start == "" {
				start = "not yet (with the first session)"
			}
			out := map[string]any{
				"start": unixText(e.Start), "now": unixText(e.Now), "total": e.Total.String(), "total_pha": e.Total.PHAString(),
				"emitted": e.Emitted.String(), "emitted_pha": e.Emitted.PHAString(), "per_day_now": e.PerDayNow.String(),
				"per_day_now_pha": e.PerDayNow.PHAString(), "next_decay": unixText(e.NextDecayAt), "spans": spans,
			}
			return emit(out, func() string {
				return fmt.Sprintf("started        %s\nper day now    %s\nnext decay     %s\nemitted        %s of %s in all\nspans\n%s",
					start, e.PerDayNow.PHAString(), unixText(e.NextDecayAt), e.Emitted.PHAString(), e.Total.PHAString(), strings.Join(lines, "\n"))
			})
		},
	}
	n.register(cmd)
	return cmd
}

// daysText is a duration in whole days when it is some ("180 days"),
// else as Go writes it ("1m0s").
func daysText(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

func queryComputeParamsCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "compute-params", Short: "The economy's params (JSON: the form tx compute set-params reads)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			p, err := c.ComputeParams(ctx)
			if err != nil {
				return err
			}
			e := p.Economy
			return emit(p, func() string {
				return strings.Join([]string{
					p.String(),
					fmt.Sprintf("minimum stake %s·sqrt(P) PHA, P at least %d; V₀ = ((%s−1)·confidence + 1)·(stake + %s·P + %s), at most %s", e.K, e.MinScore, e.Re, e.RigK, e.RigB, e.VMax),
					fmt.Sprintf("V grows ×%s an hour plus (%s·P + %s) an hour while computing; decays ×(1−%s) an hour unresponsive", e.GrowthPerHour, e.CostK, e.CostB, e.SlashPerHour),
					fmt.Sprintf("emission %s a day, ×%s every %s; treasury's share %s of each reward; slash %s of the stake; cool-down %s",
						e.BudgetPerDay.PHAString(), e.DecayFactor, daysText(e.DecayEvery), e.TreasuryShare, p.SlashShare, daysText(e.CoolDown)),
				}, "\n")
			})
		},
	}
	n.register(cmd)
	return cmd
}
