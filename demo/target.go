package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/network/endpoints"
)

// Target is the network a demo runs on: a node and the cluster's workers.
type Target struct {
	Node    string
	Workers []string
}

// FindTarget reads where the network running on home serves (the record
// phala devnet and phala node keep in their home) and checks its node
// answers. node and workers, when given, replace what the record says (a
// network elsewhere, or a proxy in front of it). The errors say how to
// start a devnet on home.
func FindTarget(ctx context.Context, home, node string, workers []string) (Target, error) {
	t := Target{Node: node, Workers: workers}
	if node == "" || len(workers) == 0 {
		rec, err := endpoints.Read(home)
		if errors.Is(err, endpoints.ErrNone) {
			return t, fmt.Errorf("no devnet is running on %s: start one in another terminal with `phala devnet --home %s`, then run the demo again", home, home)
		}
		if err != nil {
			return t, err
		}
		if t.Node == "" {
			t.Node = rec.RPC
		}
		if len(t.Workers) == 0 {
			t.Workers = rec.Workers
		}
	}
	c, err := client.New(t.Node)
	if err != nil {
		return t, err
	}
	if _, err := c.ChainID(ctx); err != nil {
		return t, fmt.Errorf("the network recorded in %s does not answer at %s (stopped?): start it with `phala devnet --home %s`: %w", endpoints.Path(home), t.Node, home, err)
	}
	return t, nil
}
