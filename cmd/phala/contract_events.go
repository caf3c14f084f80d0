package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
)

func contractEventsCmd() *cobra.Command {
	var (
		k              keyringFlags
		n              nodeFlag
		w              receiptFlags
		from, contract string
		cluster        string
		after          uint64
		limit          uint32
		window         int64
	)
	cmd := &cobra.Command{
		Use:   "events --from KEY [--contract ID] [--after N] [--limit N]",
		Short: "Read the events contracts addressed to your account, from a worker",
		Long: `Read the events that contracts emitted to the account of --from (the
audience of an event: a token's transfer names both parties). The request
is signed by that key, with a nonce and an expiry height (--window blocks
ahead), and goes to a worker of the cluster (--worker, else $PHALA_WORKER,
else the client config's workers, else the endpoints the cluster's
workers published on chain); the answer is sealed to a fresh reply key and
signed by the worker, which is checked against the cluster's workers on
chain. Nothing goes on chain. Events come oldest first, each with an
index: --after the last index seen gives the next page. A worker keeps
the newest events only (its retention); "oldest" says which it still has.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o := client.EventsOptions{Cluster: cluster, After: after, Limit: limit, Window: window}
			if contract != "" {
				id, err := contractsapi.ParseHash(contract)
				if err != nil {
					return err
				}
				o.Contract = id
			}
			workers, _, err := workerURLs(w.workers, os.Getenv)
			if err != nil {
				return err
			}
			o.Workers = workers
			key, err := loadKey(&k, from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			a, err := c.AccountEvents(ctx, key, o)
			if err != nil {
				return err
			}
			out := accountEventsOut(a)
			return emit(out, out.text)
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	w.registerWorkers(cmd)
	cmd.Flags().StringVar(&from, "from", "", "name of the key whose events to read (it signs the request)")
	cmd.MarkFlagRequired("from")
	cmd.Flags().StringVar(&contract, "contract", "", "only this contract's events (default: every contract's)")
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster whose workers to ask (default: the contract's, else "+client.DefaultCluster+")")
	cmd.Flags().Uint64Var(&after, "after", 0, "events with an index above this (the last index seen)")
	cmd.Flags().Uint32Var(&limit, "limit", 0, "at most this many (0: the worker's page)")
	cmd.Flags().Int64Var(&window, "window", 20, "blocks the request stays valid")
	return cmd
}

type accountEventJSON struct {
	Index    uint64          `json:"index"`
	Seq      uint64          `json:"seq"`
	Height   int64           `json:"height"`
	Contract string          `json:"contract"`
	Topic    string          `json:"topic"`
	Data     json.RawMessage `json:"data,omitempty"`
	Hex      string          `json:"data_hex,omitempty"`
}

type eventsJSON struct {
	Events     []accountEventJSON `json:"events"`
	More       bool               `json:"more"`
	Oldest     uint64             `json:"oldest"`
	Worker     string             `json:"worker"`
	WorkerURL  string             `json:"worker_url"`
	AnsweredAt int64              `json:"answered_at"`
}

func accountEventsOut(a client.EventsAnswer) eventsJSON {
	out := eventsJSON{Events: []accountEventJSON{}, More: a.More, Oldest: a.Oldest, Worker: hex.EncodeToString(a.Worker), WorkerURL: a.URL, AnsweredAt: a.AnsweredAt}
	for _, e := range a.Events {
		j := accountEventJSON{Index: e.Index, Seq: e.Seq, Height: e.Height, Contract: e.Contract.String(), Topic: e.Topic}
		if json.Valid(e.Data) {
			j.Data = e.Data
		} else {
			j.Hex = hex.EncodeToString(e.Data)
		}
		out.Events = append(out.Events, j)
	}
	return out
}

func (e eventsJSON) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events (worker %s at %s, height %d)", len(e.Events), short(e.Worker), e.WorkerURL, e.AnsweredAt)
	for _, ev := range e.Events {
		data := string(ev.Data)
		if ev.Data == nil {
			data = ev.Hex
		}
		fmt.Fprintf(&b, "\n#%d  block %d  command %d  %s  %s %s", ev.Index, ev.Height, ev.Seq, abbreviatedHex(ev.Contract), ev.Topic, data)
	}
	if e.More {
		fmt.Fprintf(&b, "\nmore: --after %d", e.Events[len(e.Events)-1].Index)
	}
	return b.String()
}
