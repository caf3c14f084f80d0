package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// Stake pools: `phala tx pool ...` and `phala query pool|pools|position|
// pool-queue`. Shares are counted like PHA: a fresh pool gives one share
// per base unit, so "--shares 100" is 100·10^12 share units ("u" suffix:
// raw units).

func newPoolTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pool", Aliases: []string{"pools"}, Short: "Stake pools: create, add workers, delegate, undelegate, withdraw rewards"}
	cmd.AddCommand(txPoolCreateCmd(), txPoolWorkerCmd("add-worker", "Add a worker you operate to your pool", poolsapi.MethodAddWorker),
		txPoolWorkerCmd("remove-worker", "Take a worker with no session out of your pool", poolsapi.MethodRemoveWorker),
		txPoolSetCommissionCmd(), txPoolSetCapacityCmd(), txPoolDelegateCmd(), txPoolUndelegateCmd(), txPoolWithdrawCmd(), setParamsCmd(poolsapi.Name))
	return cmd
}

func poolQueryCmds() []*cobra.Command {
	return []*cobra.Command{queryPoolCmd(), queryPoolsCmd(), queryPositionCmd(), queryPoolQueueCmd()}
}

func parsePoolID(s string) (poolsapi.ID, error) { return poolsapi.ParseID(s) }

func parseWorkerKey(s string) (ed25519.PublicKey, error) {
	id, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(id) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("invalid worker key %q: want 64 hex digits", s)
	}
	return id, nil
}

// parseShares reads a share count like a PHA amount: "100", "0.5",
// "1500u".
func parseShares(s string) (token.Amount, error) {
	a, err := token.ParsePHA(s)
	if err != nil {
		return a, fmt.Errorf("invalid shares %q: want a count like 100 or 0.5 (or raw units like 1500u), or all", s)
	}
	return a, nil
}

func sharesText(a token.Amount) string { return strings.TrimSuffix(a.PHAString(), " PHA") }

func poolFlag(cmd *cobra.Command, pool *string) {
	cmd.Flags().StringVar(pool, "pool", "", "pool number")
	cmd.MarkFlagRequired("pool")
}

func txPoolCreateCmd() *cobra.Command {
	var (
		k                      keyringFlags
		n                      nodeFlag
		from, commission, capS string
	)
	cmd := &cobra.Command{
		Use: "create --from KEY --commission 10% [--capacity PHA]", Short: "Create a stake pool you own; prints its number", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			comm, err := tokenomics.ParsePermill(commission)
			if err != nil {
				return fmt.Errorf("--commission: %w", err)
			}
			var capacity token.Amount
			if capS != "" {
				if capacity, err = token.ParsePHA(capS); err != nil {
					return fmt.Errorf("--capacity: %w", err)
				}
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
			id, inc, err := c.CreatePool(ctx, key, comm, capacity)
			if err != nil {
				return err
			}
			out := struct {
				txResultJSON
				Pool    uint64 `json:"pool"`
				Account string `json:"account"`
			}{txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, uint64(id), poolsapi.Account(id).String()}
			return emit(out, func() string {
				return fmt.Sprintf("pool %s created (commission %s) in block %d\naccount %s", id, comm, inc.Height, out.Account)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the owner's key")
	cmd.Flags().StringVar(&commission, "commission", "", "the owner's share of rewards: a percentage (12.5%) or a fraction (0.125)")
	cmd.Flags().StringVar(&capS, "capacity", "", `cap on the pool's stake in PHA ("50000") or base units ("1500u") (default: none)`)
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("commission")
	return cmd
}

func txPoolWorkerCmd(use, short, method string) *cobra.Command {
	var pool, worker string
	done := map[string]string{poolsapi.MethodAddWorker: "added to", poolsapi.MethodRemoveWorker: "removed from"}[method]
	return economyTxCmd(use+" --from OWNER --pool ID --worker HEX", short, method,
		"the pool owner's key (to add a worker: its operator's too, as registered)",
		func(cmd *cobra.Command) {
			poolFlag(cmd, &pool)
			cmd.Flags().StringVar(&worker, "worker", "", "the worker's identity key (hex)")
			cmd.MarkFlagRequired("worker")
		},
		func() (any, error) {
			id, err := parsePoolID(pool)
			if err != nil {
				return nil, err
			}
			w, err := parseWorkerKey(worker)
			return poolsapi.WorkerBody{Pool: id, Worker: w}, err
		},
		func(inc client.Included) string { return inBlock("worker %s %s pool %s", inc, worker, done, pool) })
}

func txPoolSetCommissionCmd() *cobra.Command {
	var pool, commission string
	var set tokenomics.Permill
	return economyTxCmd("set-commission --from OWNER --pool ID --commission 10%", "Set your pool's commission: the owner's share of its workers' rewards", poolsapi.MethodSetCommission,
		"the pool owner's key",
		func(cmd *cobra.Command) {
			poolFlag(cmd, &pool)
			cmd.Flags().StringVar(&commission, "commission", "", "a percentage (12.5%) or a fraction (0.125)")
			cmd.MarkFlagRequired("commission")
		},
		func() (any, error) {
			id, err := parsePoolID(pool)
			if err != nil {
				return nil, err
			}
			set, err = tokenomics.ParsePermill(commission)
			if err != nil {
				return nil, fmt.Errorf("--commission: %w", err)
			}
			return poolsapi.SetCommission{Pool: id, Commission: set}, nil
		},
		func(inc client.Included) string { return inBlock("pool %s: commission %s from now on", inc, pool, set) })
}

func txPoolSetCapacityCmd() *cobra.Command {
	var pool, capS string
	var set token.Amount
	return economyTxCmd("set-capacity --from OWNER --pool ID --capacity PHA", "Cap your pool's stake (0: no cap)", poolsapi.MethodSetCapacity,
		"the pool owner's key",
		func(cmd *cobra.Command) {
			poolFlag(cmd, &pool)
			cmd.Flags().StringVar(&capS, "capacity", "", `cap on the pool's stake in PHA ("50000") or base units ("1500u"); 0 lifts it`)
			cmd.MarkFlagRequired("capacity")
		},
		func() (any, error) {
			id, err := parsePoolID(pool)
			if err != nil {
				return nil, err
			}
			if set, err = token.ParsePHA(capS); err != nil {
				return nil, fmt.Errorf("--capacity: %w", err)
			}
			return poolsapi.SetCapacity{Pool: id, Capacity: set}, nil
		},
		func(inc client.Included) string {
			if set.IsZero() {
				return inBlock("pool %s: no cap on its stake", inc, pool)
			}
			return inBlock("pool %s: stake capped at %s", inc, pool, set.PHAString())
		})
}

func txPoolDelegateCmd() *cobra.Command {
	var pool, amount string
	return economyTxCmd("delegate --from KEY --pool ID --amount PHA", "Delegate PHA to a pool for shares at the pool's price", poolsapi.MethodDelegate,
		"the delegator's key",
		func(cmd *cobra.Command) {
			poolFlag(cmd, &pool)
			cmd.Flags().StringVar(&amount, "amount", "", `PHA ("1.5"), or base units ("1500u")`)
			cmd.MarkFlagRequired("amount")
		},
		func() (any, error) {
			id, err := parsePoolID(pool)
			if err != nil {
				return nil, err
			}
			a, err := token.ParsePHA(amount)
			if err != nil {
				return nil, fmt.Errorf("--amount: %w", err)
			}
			return poolsapi.Delegate{Pool: id, Amount: a}, nil
		},
		func(inc client.Included) string {
			if es := txEvents(inc, poolsapi.EventDelegated); len(es) > 0 {
				e := es[0]
				return inBlock("delegated %s to pool %s for %s shares", inc, eventAmount(e, "amount").PHAString(), pool, sharesText(eventAmount(e, "shares")))
			}
			return inBlock("delegated to pool %s", inc, pool)
		})
}

func txPoolWithdrawCmd() *cobra.Command {
	var pool, amount string
	return economyTxCmd("withdraw --from KEY --pool ID [--amount PHA]", "Withdraw your pending rewards (the owner: and the commission)", poolsapi.MethodWithdraw,
		"the delegator's (or the owner's) key",
		func(cmd *cobra.Command) {
			poolFlag(cmd, &pool)
			cmd.Flags().StringVar(&amount, "amount", "", `how much, in PHA ("1.5") or base units ("1500u") (default: all pending)`)
		},
		func() (any, error) {
			id, err := parsePoolID(pool)
			if err != nil {
				return nil, err
			}
			var a token.Amount
			if amount != "" {
				if a, err = token.ParsePHA(amount); err != nil {
					return nil, fmt.Errorf("--amount: %w", err)
				}
			}
			return poolsapi.Withdraw{Pool: id, Amount: a}, nil
		},
		func(inc client.Included) string {
			if es := txEvents(inc, poolsapi.EventRewardsClaim); len(es) > 0 {
				e := es[0]
				return inBlock("withdrew %s of rewards from pool %s", inc, eventAmount(e, "amount").PHAString(), pool)
			}
			return inBlock("withdrew rewards from pool %s", inc, pool)
		})
}

// txPoolUndelegateCmd queues shares for withdrawal; "all" reads the
// sender's position first.
func txPoolUndelegateCmd() *cobra.Command {
	var (
		k                   keyringFlags
		n                   nodeFlag
		from, pool, sharesS string
	)
	cmd := &cobra.Command{
		Use: "undelegate --from KEY --pool ID --shares N|all", Short: "Withdraw shares: paid now from free stake, else queued until stake comes free", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			id, err := parsePoolID(pool)
			if err != nil {
				return err
			}
			var shares token.Amount
			if sharesS != "all" {
				if shares, err = parseShares(sharesS); err != nil {
					return err
				}
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
			me := address.FromPublicKey(key.Public().(ed25519.PublicKey))
			if sharesS == "all" {
				pos, err := c.Position(ctx, id, me)
				if err != nil {
					return err
				}
				if shares, _ = pos.Shares.Sub(pos.Queued); shares.IsZero() {
					return fmt.Errorf("%s holds no shares of pool %s to undelegate (%s already queued)", me, id, sharesText(pos.Queued))
				}
			}
			inc, err := c.Undelegate(ctx, key, id, shares)
			if err != nil {
				return err
			}
			return emit(txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, func() string {
				return undelegatedText(inc, id, me, shares)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the delegator's key")
	poolFlag(cmd, &pool)
	cmd.Flags().StringVar(&sharesS, "shares", "", "shares to undelegate, counted like PHA (100, 0.5, or 1500u in base units), or all")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("shares")
	return cmd
}

// undelegatedText says what an undelegation did: the shares paid at once
// (the queue may pay several delegators in one transaction) and those
// still queued.
func undelegatedText(inc client.Included, id poolsapi.ID, me address.Address, shares token.Amount) string {
	var served, paid token.Amount
	for _, e := range txEvents(inc, poolsapi.EventWithdrawal) {
		if e["delegator"] == me.String() {
			served, _ = served.Add(eventAmount(e, "shares"))
			paid, _ = paid.Add(eventAmount(e, "amount"))
		}
	}
	waiting, err := shares.Sub(served)
	if err != nil || waiting.IsZero() {
		return inBlock("undelegated %s shares of pool %s: paid %s", inc, sharesText(shares), id, paid.PHAString())
	}
	return inBlock("undelegated %s shares of pool %s: %s of them paid now (%s), %s queued until stake comes free (phala query pool-queue %s)", inc,
		sharesText(shares), id, sharesText(served), paid.PHAString(), sharesText(waiting), id)
}

// poolJSON is a pool for people: amounts in base units (exact) and PHA
// (the _pha fields), shares in base units.
type poolJSON struct {
	ID              uint64   `json:"id"`
	Owner           string   `json:"owner"`
	Account         string   `json:"account"`
	Commission      string   `json:"commission"`
	CommissionPPM   uint32   `json:"commission_ppm"`
	Capacity        string   `json:"capacity"`
	CapacityPHA     string   `json:"capacity_pha"`
	Balance         string   `json:"balance"`
	BalancePHA      string   `json:"balance_pha"`
	Shares          string   `json:"shares"`
	Stake           string   `json:"stake"`
	StakePHA        string   `json:"stake_pha"`
	Free            string   `json:"free"`
	FreePHA         string   `json:"free_pha"`
	Locked          string   `json:"locked"`
	LockedPHA       string   `json:"locked_pha"`
	Releasing       string   `json:"releasing"`
	ReleasingPHA    string   `json:"releasing_pha"`
	Rewards         string   `json:"rewards"`
	RewardsPHA      string   `json:"rewards_pha"`
	OwnerRewards    string   `json:"owner_rewards"`
	OwnerRewardsPHA string   `json:"owner_rewards_pha"`
	TotalRewards    string   `json:"total_rewards"`
	TotalRewardsPHA string   `json:"total_rewards_pha"`
	Queued          string   `json:"queued_shares"`
	QueueLength     uint64   `json:"queue_length"`
	Workers         []string `json:"workers"`
	RewardPerShare  string   `json:"reward_per_share"`
}

func poolOut(info poolsapi.PoolInfo) poolJSON {
	p := info.Pool
	out := poolJSON{
		ID: uint64(p.ID), Owner: p.Owner.String(), Account: info.Account.String(), Commission: p.Commission.String(), CommissionPPM: uint32(p.Commission),
		Capacity: p.Capacity.String(), Balance: info.Balance.String(), Shares: p.Shares.String(), Stake: p.Stake.String(), Free: p.Free.String(),
		Locked: p.Locked.String(), Releasing: p.Releasing.String(), Rewards: p.Rewards.String(), OwnerRewards: p.OwnerRewards.String(),
		TotalRewards: p.TotalRewards.String(), Queued: p.Queued.String(), QueueLength: p.Tail - p.Head, Workers: []string{},
		RewardPerShare: p.RewardPerShare.String(),
		CapacityPHA:    p.Capacity.PHAString(), BalancePHA: info.Balance.PHAString(), StakePHA: p.Stake.PHAString(), FreePHA: p.Free.PHAString(),
		LockedPHA: p.Locked.PHAString(), ReleasingPHA: p.Releasing.PHAString(), RewardsPHA: p.Rewards.PHAString(),
		OwnerRewardsPHA: p.OwnerRewards.PHAString(), TotalRewardsPHA: p.TotalRewards.PHAString(),
	}
	for _, w := range info.Workers {
		out.Workers = append(out.Workers, hex.EncodeToString(w))
	}
	return out
}

func poolText(info poolsapi.PoolInfo) string {
	p := info.Pool
	capacity := "none"
	if !p.Capacity.IsZero() {
		capacity = p.Capacity.PHAString()
	}
	workers := "  none"
	if len(info.Workers) > 0 {
		ws := make([]string, len(info.Workers))
		for i, w := range info.Workers {
			ws[i] = "  " + hex.EncodeToString(w)
		}
		workers = strings.Join(ws, "\n")
	}
	return fmt.Sprintf(`pool %s
owner          %s
account        %s  (%s)
commission     %s
capacity       %s
stake          %s  (free %s, in sessions %s, of which releasing %s)
shares         %s  (%s queued in %d requests)
rewards        %s to delegators, %s commission unclaimed; %s in all
workers
%s`, p.ID, p.Owner, info.Account, info.Balance.PHAString(), p.Commission, capacity,
		p.Stake.PHAString(), p.Free.PHAString(), p.Locked.PHAString(), p.Releasing.PHAString(),
		sharesText(p.Shares), sharesText(p.Queued), p.Tail-p.Head,
		p.Rewards.PHAString(), p.OwnerRewards.PHAString(), p.TotalRewards.PHAString(), workers)
}

func queryPoolCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "pool ID", Short: "A stake pool: stake, shares, rewards, workers", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := parsePoolID(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			info, err := c.Pool(ctx, id)
			if err != nil {
				return err
			}
			return emit(poolOut(info), func() string { return poolText(info) })
		},
	}
	n.register(cmd)
	return cmd
}

func queryPoolsCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "pools", Short: "Every stake pool", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			all, err := c.Pools(ctx)
			if err != nil {
				return err
			}
			out := make([]poolJSON, len(all))
			lines := []string{}
			for i, info := range all {
				out[i] = poolOut(info)
				p := info.Pool
				lines = append(lines, fmt.Sprintf("pool %-4s owner %s  commission %-8s stake %s  workers %d", p.ID, p.Owner, p.Commission, p.Stake.PHAString(), p.Workers))
			}
			if len(lines) == 0 {
				lines = append(lines, "no pools")
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	n.register(cmd)
	return cmd
}

type positionJSON struct {
	Pool          uint64 `json:"pool"`
	Delegator     string `json:"delegator"`
	Shares        string `json:"shares"`
	Queued        string `json:"queued_shares"`
	Value         string `json:"value"`
	ValuePHA      string `json:"value_pha"`
	Pending       string `json:"pending_rewards"`
	PendingPHA    string `json:"pending_rewards_pha"`
	Commission    string `json:"owner_commission"`
	CommissionPHA string `json:"owner_commission_pha"`
}

func positionOut(p poolsapi.Position) positionJSON {
	return positionJSON{Pool: uint64(p.Pool), Delegator: p.Delegator.String(), Shares: p.Shares.String(), Queued: p.Queued.String(),
		Value: p.Value.String(), ValuePHA: p.Value.PHAString(), Pending: p.Rewards.String(), PendingPHA: p.Rewards.PHAString(),
		Commission: p.Commission.String(), CommissionPHA: p.Commission.PHAString()}
}

func positionText(p poolsapi.Position) string {
	s := fmt.Sprintf("pool %s: %s shares worth %s (%s queued), pending rewards %s", p.Pool, sharesText(p.Shares), p.Value.PHAString(), sharesText(p.Queued), p.Rewards.PHAString())
	if !p.Commission.IsZero() {
		s += ", commission " + p.Commission.PHAString()
	}
	return s
}

// queryPositionCmd: one pool's position with --pool, else every pool's.
func queryPositionCmd() *cobra.Command {
	var (
		k               keyringFlags
		n               nodeFlag
		pool, delegator string
	)
	cmd := &cobra.Command{
		Use: "position --delegator ADDRESS|KEY [--pool ID]", Short: "A delegator's shares, their value and pending rewards", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			who, err := resolveAddress(&k, delegator)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			if pool != "" {
				id, err := parsePoolID(pool)
				if err != nil {
					return err
				}
				p, err := c.Position(ctx, id, who)
				if err != nil {
					return err
				}
				return emit(positionOut(p), func() string { return positionText(p) })
			}
			all, err := c.Positions(ctx, who)
			if err != nil {
				return err
			}
			out := make([]positionJSON, len(all))
			lines := []string{}
			for i, p := range all {
				out[i] = positionOut(p)
				lines = append(lines, positionText(p))
			}
			if len(lines) == 0 {
				lines = append(lines, "no positions")
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	k.register(cmd, false)
	n.register(cmd)
	cmd.Flags().StringVar(&delegator, "delegator", "", "address or key name")
	cmd.Flags().StringVar(&pool, "pool", "", "one pool (default: every pool)")
	cmd.MarkFlagRequired("delegator")
	return cmd
}

func queryPoolQueueCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "pool-queue ID", Short: "A pool's withdrawal queue, first in line first", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := parsePoolID(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			q, err := c.PoolQueue(ctx, id)
			if err != nil {
				return err
			}
			type entryJSON struct {
				Delegator string `json:"delegator"`
				Shares    string `json:"shares"`
				Since     string `json:"since"`
			}
			out := make([]entryJSON, len(q))
			lines := []string{}
			for i, e := range q {
				since := time.Unix(0, e.Since).UTC().Format(time.RFC3339)
				out[i] = entryJSON{Delegator: e.Delegator.String(), Shares: e.Shares.String(), Since: since}
				lines = append(lines, fmt.Sprintf("%s  %s shares since %s", e.Delegator, sharesText(e.Shares), since))
			}
			if len(lines) == 0 {
				lines = append(lines, "nobody waits")
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	n.register(cmd)
	return cmd
}
