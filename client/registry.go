package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
)

// Anchor is the newest committed block, which fresh report data names.
func (c *Client) Anchor(ctx context.Context) (chainapi.Anchor, error) {
	var a chainapi.Anchor
	err := c.Query(ctx, chainapi.QueryAnchor, nil, &a)
	return a, err
}

// FirstAnchor returns the newest block, waiting for the first one on a
// chain that has just started: what a registration quote names.
func (c *Client) FirstAnchor(ctx context.Context) (chainapi.Anchor, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		anchor, err := c.Anchor(ctx)
		if err != nil || anchor.Height > 0 {
			return anchor, err
		}
		select {
		case <-ctx.Done():
			return anchor, fmt.Errorf("the chain has committed no block to anchor the quote to: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Register submits a registration signed by its operator and waits for it.
func (c *Client) Register(ctx context.Context, operator ed25519.PrivateKey, body registryapi.Register) (Included, error) {
	raw, err := c.Sign(ctx, operator, registryapi.MethodRegister, body, SendOptions{GasLimit: registryapi.RegisterGas})
	if err != nil {
		return Included{}, err
	}
	return c.SubmitAndWait(ctx, raw)
}

// Nodes lists registered nodes of a role (0: all).
func (c *Client) Nodes(ctx context.Context, role registryapi.Role) ([]registryapi.Node, error) {
	var data []byte
	if role != 0 {
		data = []byte{byte(role)}
	}
	var out []registryapi.Node
	err := c.Query(ctx, registryapi.QueryNodes, data, &out)
	return out, err
}

// Node reads one node by identity key.
func (c *Client) Node(ctx context.Context, identityKey []byte) (registryapi.Node, error) {
	var n registryapi.Node
	err := c.Query(ctx, registryapi.QueryNode, identityKey, &n)
	return n, err
}

// Gatekeepers reads the gatekeeper grants and the active gatekeepers.
func (c *Client) Gatekeepers(ctx context.Context) (registryapi.GatekeepersInfo, error) {
	var g registryapi.GatekeepersInfo
	err := c.Query(ctx, registryapi.QueryGatekeepers, nil, &g)
	return g, err
}

// Policy reads the attestation policy.
func (c *Client) Policy(ctx context.Context) (attest.Policy, error) {
	var p attest.Policy
	err := c.Query(ctx, registryapi.QueryPolicy, nil, &p)
	return p, err
}

// sendAttempts bounds Send's signings when another sender of the same
// account keeps taking the nonce.
const sendAttempts = 3

// Send signs body for method with the account's next nonce and waits for
// its block. Another sender of the same account may take that nonce first
// (on a devnet, a pool owner's worker relay sends as the owner): the node
// then refuses the transaction before it runs, and Send signs it again
// after the next block, with the nonce that block leaves.
func (c *Client) Send(ctx context.Context, key ed25519.PrivateKey, method string, body any) (Included, error) {
	for attempt := 1; ; attempt++ {
		raw, err := c.Sign(ctx, key, method, body, SendOptions{})
		if err != nil {
			return Included{}, err
		}
		inc, err := c.SubmitAndWait(ctx, raw)
		if attempt == sendAttempts || !errors.Is(err, tx.ErrNonceTooLow) {
			return inc, err
		}
		if err := c.nextBlock(ctx); err != nil {
			return inc, err
		}
	}
}

// nextBlock waits until the node commits a block after the newest one.
func (c *Client) nextBlock(ctx context.Context) error {
	h, err := c.LatestHeight(ctx)
	if err != nil {
		return err
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if now, err := c.LatestHeight(ctx); err == nil && now > h {
			return nil
		}
	}
}
