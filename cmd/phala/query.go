package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/spf13/cobra"
)

func newQueryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Read chain state"}
	cmd.AddCommand(queryBalanceCmd(), queryAccountCmd(), withProve(querySupplyCmd(), proveSupply), queryTxCmd(), queryBlockCmd(), queryStatusCmd(),
		queryWorkersCmd(), withProve(queryWorkerCmd(), proveWorker),
		queryNodesCmd("gatekeepers", "Gatekeeper grants and registered gatekeepers", registryapi.RoleGatekeeper, true), withProve(queryPolicyCmd(), provePolicy))
	cmd.AddCommand(keysQueryCmds()...)
	cmd.AddCommand(computeQueryCmds()...)
	cmd.AddCommand(poolQueryCmds()...)
	cmd.AddCommand(newGovQueryCmd())
	return cmd
}

type accountJSON struct {
	Address    string `json:"address"`
	Balance    string `json:"balance"`
	BalancePHA string `json:"balance_pha"`
	Nonce      uint64 `json:"nonce"`
	Exists     bool   `json:"exists"`
}

func accountQuery(use, short string, text func(accountJSON) string) *cobra.Command {
	var (
		k  keyringFlags
		n  nodeFlag
		pf proveFlags
	)
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := resolveAddress(&k, args[0])
			if err != nil {
				return err
			}
			if pf.prove {
				return proveAccount(cmd, &pf, a, text)
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			info, err := c.Account(ctx, a)
			if err != nil {
				return err
			}
			out := accountJSON{Address: a.String(), Balance: info.Balance.String(), BalancePHA: info.Balance.PHAString(), Nonce: info.Nonce, Exists: info.Exists}
			return emit(out, func() string { return text(out) })
		},
	}
	k.register(cmd, false)
	n.register(cmd)
	pf.register(cmd)
	return cmd
}

// proveAccount proves an account, or its absence (balance 0).
func proveAccount(cmd *cobra.Command, pf *proveFlags, a address.Address, text func(accountJSON) string) error {
	v, ts, ctx, cancel, err := pf.connectProven(cmd)
	if err != nil {
		return err
	}
	defer cancel()
	acc, p, err := v.Account(ctx, a)
	if err != nil {
		return fmt.Errorf("--prove: not verified: %w", err)
	}
	out := accountJSON{Address: a.String(), Balance: acc.Balance.String(), BalancePHA: acc.Balance.PHAString(), Nonce: acc.Nonce, Exists: p.Found}
	return emitProven(out, func() string { return text(out) }, p, ts)
}

func queryBalanceCmd() *cobra.Command {
	return accountQuery("balance ADDRESS|KEY", "Balance of an account", func(a accountJSON) string { return a.BalancePHA })
}

func queryAccountCmd() *cobra.Command {
	return accountQuery("account ADDRESS|KEY", "Balance and nonce of an account", func(a accountJSON) string {
		return rowsText("", []row{{"address", a.Address}, {"balance", a.BalancePHA}, {"nonce", fmt.Sprint(a.Nonce)}, {"exists", fmt.Sprint(a.Exists)}})
	})
}

func supplyOut(s bankapi.SupplyInfo) map[string]string {
	return map[string]string{"total": s.Total.String(), "reward_pool": s.RewardPool.String(), "treasury": s.Treasury.String(), "burned": s.Burned.String()}
}

func supplyText(s bankapi.SupplyInfo) string {
	return rowsText("", []row{{"total", s.Total.PHAString()}, {"reward pool", s.RewardPool.PHAString()}, {"treasury", s.Treasury.PHAString()}, {"burned", s.Burned.PHAString()}})
}

func querySupplyCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "supply", Short: "Total supply of PHA", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			s, err := c.Supply(ctx)
			if err != nil {
				return err
			}
			return emit(supplyOut(s), func() string { return supplyText(s) })
		},
	}
	n.register(cmd)
	return cmd
}

func queryTxCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "tx HASH", Short: "A committed transaction and its result", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			hash, err := hex.DecodeString(strings.TrimPrefix(args[0], "0x"))
			if err != nil || len(hash) != 32 {
				return fmt.Errorf("invalid transaction hash %q: want 64 hex digits", args[0])
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			res, err := c.Tx(ctx, hash)
			if err != nil {
				return err
			}
			// The envelope, body and outcome, keeping the fields this
			// command printed before (hash, height, code, codespace, log).
			out := client.DescribeCommitted(res)
			return emit(out, func() string { return committedTxText(out) })
		},
	}
	n.register(cmd)
	return cmd
}

type blockJSON struct {
	Height  int64         `json:"height"`
	Hash    string        `json:"hash"`
	Time    time.Time     `json:"time"`
	NumTxs  int           `json:"num_txs"`
	AppHash string        `json:"app_hash"`
	Txs     []blockTxJSON `json:"txs"`
}

func (b blockJSON) text() string {
	head := rowsText("", []row{{"height", fmt.Sprint(b.Height)}, {"hash", b.Hash}, {"time", b.Time.Format(time.RFC3339)},
		{"app hash", b.AppHash}, {"txs", fmt.Sprint(b.NumTxs)}})
	lines := []string{head}
	for _, t := range b.Txs {
		lines = append(lines, t.line())
	}
	return strings.Join(lines, "\n")
}

func queryBlockCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "block [HEIGHT]", Short: "A block (default: the latest)", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var height *int64
			if len(args) == 1 {
				h, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || h <= 0 {
					return fmt.Errorf("invalid height %q", args[0])
				}
				height = &h
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			b, err := c.Block(ctx, height)
			if err != nil {
				return err
			}
			out := blockJSON{Height: b.Block.Height, Hash: b.BlockID.Hash.String(), Time: b.Block.Time, NumTxs: len(b.Block.Txs), AppHash: b.Block.AppHash.String(), Txs: []blockTxJSON{}}
			for _, t := range c.BlockTxs(ctx, b) {
				out.Txs = append(out.Txs, blockTxOut(t))
			}
			return emit(out, out.text)
		},
	}
	n.register(cmd)
	return cmd
}

type statusJSON struct {
	ChainID    string `json:"chain_id"`
	NodeID     string `json:"node_id"`
	Height     int64  `json:"latest_height"`
	BlockHash  string `json:"latest_block_hash"`
	AppHash    string `json:"latest_app_hash"`
	CatchingUp bool   `json:"catching_up"`
}

func queryStatusCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "status", Short: "The node's chain, height and sync state", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			st, err := c.Status(ctx)
			if err != nil {
				return err
			}
			si := st.SyncInfo
			out := statusJSON{ChainID: st.NodeInfo.Network, NodeID: st.NodeInfo.ID, Height: si.LatestBlockHeight,
				BlockHash: si.LatestBlockHash.String(), AppHash: si.LatestAppHash.String(), CatchingUp: si.CatchingUp}
			return emit(out, func() string {
				return rowsText("", []row{{"chain", out.ChainID}, {"node", out.NodeID}, {"height", fmt.Sprint(out.Height)},
					{"block hash", out.BlockHash}, {"app hash", out.AppHash}, {"catching up", fmt.Sprint(out.CatchingUp)}})
			})
		},
	}
	n.register(cmd)
	return cmd
}
