package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
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

// Send signs body for method and waits for its block.
func (c *Client) Send(ctx context.Context, key ed25519.PrivateKey, method string, body any) (Included, error) {
	raw, err := c.Sign(ctx, key, method, body, SendOptions{})
	if err != nil {
		return Included{}, err
	}
	return c.SubmitAndWait(ctx, raw)
}
