package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

type nodeFlag struct {
	url     string
	timeout time.Duration
}

func (n *nodeFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&n.url, "node", "", nodeFlagUsage)
	markConfigBacked(cmd, "node")
	cmd.Flags().DurationVar(&n.timeout, "timeout", 30*time.Second, "give up after this long")
}

// nodeFlagUsage says where --node comes from when it is not given; its
// value is filled in before the command runs (applyClientConfig).
const nodeFlagUsage = "CometBFT RPC address of a node (default: $" + envNode + ", else the client config's node, else " + client.DefaultNode + "; see phala config show)"

// connect also checks the node is on the chain the client config names.
func (n *nodeFlag) connect() (*client.Client, context.Context, context.CancelFunc, error) {
	c, err := client.New(n.url)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	if err := expectedChain.verify(ctx, c); err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return c, ctx, cancel, nil
}

func newTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and send transactions"}
	cmd.AddCommand(txTransferCmd(), txRegisterWorkerCmd(), txSetPolicyCmd(), txSetGatekeeperCmd())
	cmd.AddCommand(keysTxCmds()...)
	cmd.AddCommand(newComputeTxCmd())
	cmd.AddCommand(newPoolTxCmd())
	cmd.AddCommand(newGovTxCmd())
	cmd.AddCommand(paramsTxCmds()...)
	return cmd
}

// resolveAddress accepts an address or the name of a key in the keyring.
func resolveAddress(k *keyringFlags, s string) (address.Address, error) {
	if a, err := address.Parse(s); err == nil {
		return a, nil
	}
	info, err := k.open().Show(s)
	if err != nil {
		return address.Address{}, fmt.Errorf("%q is neither an address nor a key in %s: %w", s, k.dir, err)
	}
	return info.Address, nil
}

type txResultJSON struct {
	Hash      string `json:"hash"`
	Height    int64  `json:"height"`
	Code      uint32 `json:"code"`
	Codespace string `json:"codespace,omitempty"`
	Log       string `json:"log,omitempty"`
}

func txTransferCmd() *cobra.Command {
	var (
		k         keyringFlags
		n         nodeFlag
		from, to  string
		amountStr string
		feeStr    string
	)
	cmd := &cobra.Command{
		Use:   "transfer --from KEY --to ADDRESS|KEY --amount PHA",
		Short: "Send PHA and wait until a block includes it",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			amount, err := token.ParsePHA(amountStr)
			if err != nil {
				return err
			}
			var opts client.SendOptions
			if feeStr != "" {
				if opts.Fee, err = token.ParsePHA(feeStr); err != nil {
					return fmt.Errorf("--fee: %w", err)
				}
			}
			dest, err := resolveAddress(&k, to)
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
			inc, err := c.Transfer(ctx, key, dest, amount, opts)
			if err != nil {
				return err
			}
			out := txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}
			return emit(out, func() string {
				return fmt.Sprintf("sent %s to %s\ntx %X in block %d", amount.PHAString(), dest, inc.Hash, inc.Height)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "name of the sending key")
	cmd.Flags().StringVar(&to, "to", "", "recipient address or key name")
	cmd.Flags().StringVar(&amountStr, "amount", "", `amount in PHA ("1.5"), or base units with a "u" suffix ("1500u")`)
	cmd.Flags().StringVar(&feeStr, "fee", "", "fee to pay (default: the minimum for the transaction's size)")
	for _, f := range []string{"from", "to", "amount"} {
		cmd.MarkFlagRequired(f)
	}
	return cmd
}
