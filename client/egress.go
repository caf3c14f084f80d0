package client

import (
	"context"
	"crypto/ed25519"

	"github.com/phala-go/phala/mq"
)

// SubmitEgress relays an enclave's signed message in an "mq.submit"
// transaction signed and paid by the operator's account, and waits for its
// block. A message the chain accepted before comes back as an error
// matching mq.ErrDuplicate: a relay treats it as delivered.
func (c *Client) SubmitEgress(ctx context.Context, operatorKey ed25519.PrivateKey, signed mq.SignedEgress) (Included, error) {
	raw, err := c.Sign(ctx, operatorKey, mq.MethodSubmit, signed, SendOptions{GasLimit: mq.SubmitGas})
	if err != nil {
		return Included{}, err
	}
	return c.SubmitAndWait(ctx, raw)
}

// EgressSequence reads the last sequence number the chain accepted from the
// node with this identity key (0: none yet); its next message takes the
// one after.
func (c *Client) EgressSequence(ctx context.Context, identityKey ed25519.PublicKey) (uint64, error) {
	var seq uint64
	err := c.Query(ctx, mq.QuerySequence, identityKey, &seq)
	return seq, err
}
