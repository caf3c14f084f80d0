package relay

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"

	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/mq"
)

// pending is the newest egress message of a sender the mempool accepted,
// and the chain height when it did: until the chain has had a few blocks to
// include it, sending it again would only be refused as a duplicate.
type pending struct {
	seq    uint64
	height int64
}

// maxNonceTries bounds how far the relay steps over nonces that pending
// transactions of the operator (sent by an earlier relay) already hold.
const maxNonceTries = 256

// flushEgress submits the runtime's egress the chain has not accepted, in
// sequence order, with consecutive nonces and no wait between them.
func (r *Relay) flushEgress(ctx context.Context, head Head) error {
	out, err := r.cfg.Runtime.Outbox(ctx)
	if err != nil {
		return err
	}
	for _, msgs := range bySender(out.Messages) {
		if err := r.flushSender(ctx, msgs, head); err != nil {
			return err
		}
	}
	return nil
}

// bySender groups an outbox by sender, each group in sequence order.
func bySender(msgs []mq.SignedEgress) [][]mq.SignedEgress {
	idx := map[string]int{}
	var groups [][]mq.SignedEgress
	for _, m := range msgs {
		k := string(m.Egress.Sender)
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], m)
	}
	for _, g := range groups {
		slices.SortStableFunc(g, func(a, b mq.SignedEgress) int {
			switch {
			case a.Egress.Seq < b.Egress.Seq:
				return -1
			case a.Egress.Seq > b.Egress.Seq:
				return 1
			}
			return 0
		})
	}
	return groups
}

// flushSender sends one sender's messages after the chain's sequence. A
// gap refusal means the chain is elsewhere than the relay thought (a
// message dropped from a mempool): it reads the chain's sequence again
// and resends from there, once per flush.
func (r *Relay) flushSender(ctx context.Context, msgs []mq.SignedEgress, head Head) error {
	sender := msgs[0].Egress.Sender
	for attempt := 0; attempt < 2; attempt++ {
		done, err := r.chainSequence(ctx, sender, head)
		if err != nil {
			return err
		}
		err = r.sendAfter(ctx, msgs, done, head)
		if !errors.Is(err, mq.ErrSequenceGap) {
			return err
		}
		r.log.Warn("egress sequence gap, resending from the chain's sequence", "sender", hexKey(sender), "err", err)
		delete(r.pending, string(sender))
		r.nonce = nil
	}
	return nil
}

// chainSequence is the last sequence the chain accepted from sender, or
// the last one the relay sent if that is newer and still given time.
func (r *Relay) chainSequence(ctx context.Context, sender ed25519.PublicKey, head Head) (uint64, error) {
	seq, err := r.cfg.Chain.EgressSequence(ctx, sender)
	if err != nil {
		return 0, err
	}
	p, ok := r.pending[string(sender)]
	switch {
	case !ok:
	case p.seq <= seq || head.Height > p.height+r.cfg.PendingBlocks:
		delete(r.pending, string(sender)) // landed, or given up on: the chain says
	default:
		seq = p.seq
	}
	if len(r.pending) == 0 {
		r.nonce = nil // nothing of ours in flight: the chain's nonce is right
	}
	return seq, nil
}

// sendAfter submits the messages numbered after done.
func (r *Relay) sendAfter(ctx context.Context, msgs []mq.SignedEgress, done uint64, head Head) error {
	expect := done + 1
	for _, m := range msgs {
		e := m.Egress
		if e.Seq < expect {
			continue
		}
		if e.Seq > expect {
			return ErrRuntimeAnswer.Wrapf("outbox of %s skips from sequence %d to %d", hexKey(e.Sender), expect, e.Seq)
		}
		if err := m.Verify(r.chainID); err != nil {
			return ErrRuntimeAnswer.Wrapf("outbox message %d: %v", e.Seq, err)
		}
		err := r.submit(ctx, m)
		switch {
		case err == nil:
			r.metrics.egressSent.Inc()
			r.pending[string(e.Sender)] = pending{seq: e.Seq, height: head.Height}
			r.log.Debug("egress submitted", "sender", hexKey(e.Sender), "seq", e.Seq, "topic", e.Topic)
		case errors.Is(err, mq.ErrDuplicate):
			r.metrics.egressDup.Inc()
		case errors.Is(err, mq.ErrUnknownSender), errors.Is(err, mq.ErrInactiveSender):
			// Not registered (yet): registration comes first; nothing is lost,
			// the runtime keeps the message until the chain confirms it.
			r.log.Info("egress waits for the runtime's registration", "seq", e.Seq, "reason", err)
			return nil
		default:
			return err
		}
		expect++
	}
	return nil
}

// submit sends one egress message in an "mq.submit" transaction.
func (r *Relay) submit(ctx context.Context, m mq.SignedEgress) error {
	_, err := r.send(ctx, mq.MethodSubmit, m, mq.SubmitGas)
	return err
}

// send signs body with the operator's next nonce and broadcasts it without
// waiting for its block, so consecutive messages share one block. A nonce
// that a transaction still in the mempool holds is stepped over; a gap
// (that transaction was dropped) reads the chain's nonce again.
func (r *Relay) send(ctx context.Context, method string, body any, gas uint64) ([32]byte, error) {
	for range maxNonceTries {
		n, err := r.nextNonce(ctx)
		if err != nil {
			return [32]byte{}, err
		}
		raw, err := r.cfg.Chain.Sign(ctx, r.cfg.Operator, method, body, client.SendOptions{GasLimit: gas, Nonce: &n})
		if err != nil {
			return [32]byte{}, err
		}
		sub, err := r.cfg.Chain.Broadcast(ctx, raw)
		switch {
		case err == nil:
			n++
			r.nonce = &n
			return sub.Hash, nil
		case errors.Is(err, tx.ErrNonceTooLow):
			n++
			r.nonce = &n
		case errors.Is(err, tx.ErrNonceGap):
			r.nonce = nil
		default:
			return [32]byte{}, err
		}
	}
	return [32]byte{}, ErrConfig.Wrapf("operator %s: no free nonce after %d tries (another sender uses this account?)", r.operator, maxNonceTries)
}

func (r *Relay) nextNonce(ctx context.Context) (uint64, error) {
	if r.nonce != nil {
		return *r.nonce, nil
	}
	acc, err := r.cfg.Chain.Account(ctx, r.operator)
	if err != nil {
		return 0, err
	}
	if !acc.Exists {
		return 0, ErrConfig.Wrapf("operator account %s does not exist on chain (fund it first)", r.operator)
	}
	return acc.Nonce, nil
}

func hexKey(k []byte) string {
	const digits = "0123456789abcdef"
	n := min(len(k), 8)
	b := make([]byte, 2*n)
	for i, c := range k[:n] {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}
