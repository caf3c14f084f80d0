package main

import (
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/token"
)

// The economy's transactions (phala tx pool ..., phala tx compute
// start|stop) say whose key --from is and, in text, what the transaction
// did, read from its events: amounts in PHA, shares counted like PHA.

// economyTxCmd is a transaction command: body builds the transaction's
// body from the flags, say the text line from its inclusion.
func economyTxCmd(use, short, method, fromUsage string, flags func(*cobra.Command), body func() (any, error), say func(client.Included) string) *cobra.Command {
	var (
		k    keyringFlags
		n    nodeFlag
		from string
	)
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := body()
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
			inc, err := c.Send(ctx, key, method, b)
			if err != nil {
				return err
			}
			return emit(txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, func() string { return say(inc) })
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", fromUsage)
	cmd.MarkFlagRequired("from")
	flags(cmd)
	return cmd
}

// txEvents are the attributes of a transaction's events of one type, in
// order.
func txEvents(inc client.Included, kind string) []map[string]string {
	if inc.Result == nil {
		return nil
	}
	var out []map[string]string
	for _, e := range inc.Result.TxResult.Events {
		if e.Type != kind {
			continue
		}
		attrs := map[string]string{}
		for _, a := range e.Attributes {
			attrs[a.Key] = a.Value
		}
		out = append(out, attrs)
	}
	return out
}

// eventAmount reads an event's amount in base units; zero if absent.
func eventAmount(attrs map[string]string, key string) token.Amount {
	a, err := token.ParsePHA(attrs[key] + "u")
	if err != nil {
		return token.Amount{}
	}
	return a
}

func inBlock(format string, inc client.Included, args ...any) string {
	return fmt.Sprintf(format, args...) + fmt.Sprintf(" (block %d)", inc.Height)
}
