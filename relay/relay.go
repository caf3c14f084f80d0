// Package relay is the untrusted host side of a worker: it feeds the
// runtime the chain's blocks (headers, one commit per batch, validator-set
// changes and each block's message digest), submits the runtime's signed
// egress to the chain in transactions its operator pays for, and registers
// the runtime when it is not registered.
//
// The relay keeps no state across restarts: each round it reads the
// runtime's verified height and outbox and the chain's egress sequence, so
// a crash of the relay, the runtime or the node loses and duplicates
// nothing. It cannot forge what it relays: the runtime verifies every
// block, and the chain accepts each egress sequence number once.
package relay

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relaywire"
)

// Config is what a relay needs; Source, Runtime, Chain and Operator are
// required.
type Config struct {
	Source  *Source
	Runtime Runtime
	// Chain submits transactions and reads egress sequences; it may talk
	// to the same node as Source.
	Chain *client.Client
	// Operator signs and pays for every transaction; its address is bound
	// into the runtime's registration.
	Operator ed25519.PrivateKey
	// Collateral is the Intel PCS collateral added to registrations
	// (empty for the sim TEE).
	Collateral attest.Collateral
	Metrics    *Metrics     // nil: fresh metrics nobody serves
	Log        *slog.Logger // nil: discard
	// Progress receives catch-up progress lines (nil: none).
	Progress io.Writer
	// Poll is how often a caught-up relay looks for new blocks (200ms if 0).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed round
	// (100ms and 5s if 0).
	MinBackoff, MaxBackoff time.Duration
	// PendingBlocks is how many blocks a submitted egress message is given
	// to land before it is sent again (3 if 0).
	PendingBlocks int64
	// AnchorLifetime is how many blocks a registration is given before it
	// is tried again (registry's default max anchor age if 0).
	AnchorLifetime int64
	// ManualRegistration leaves registering the runtime to its operator
	// (`phala tx register-worker`, which asks the runtime for evidence too):
	// the relay only feeds blocks and submits egress.
	ManualRegistration bool
}

// Relay feeds one runtime from one node.
type Relay struct {
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics
	progress *progress
	operator address.Address
	chainID  string

	nonce   *uint64            // the operator's next nonce, nil: ask the chain
	pending map[string]pending // egress sent but not yet seen on chain, by sender
	reg     *regAttempt        // the last registration submitted
	owner   *ownerCheck        // the last check of who registered the runtime
}

// New checks the configuration and makes a relay.
func New(cfg Config) (*Relay, error) {
	switch {
	case cfg.Source == nil || cfg.Runtime == nil || cfg.Chain == nil:
		return nil, ErrConfig.Wrapf("source, runtime and chain are required")
	case len(cfg.Operator) != ed25519.PrivateKeySize:
		return nil, ErrConfig.Wrapf("an operator key is required")
	}
	cfg = withDefaults(cfg)
	return &Relay{
		cfg:      cfg,
		log:      cfg.Log,
		metrics:  cfg.Metrics,
		progress: newProgress(cfg.Progress, time.Second),
		operator: address.FromPublicKey(cfg.Operator.Public().(ed25519.PublicKey)),
		pending:  map[string]pending{},
	}, nil
}

func withDefaults(c Config) Config {
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Poll <= 0 {
		c.Poll = 200 * time.Millisecond
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.PendingBlocks <= 0 {
		c.PendingBlocks = 3
	}
	if c.AnchorLifetime <= 0 {
		c.AnchorLifetime = defaultAnchorLifetime
	}
	return c
}

// Metrics are the relay's metrics.
func (r *Relay) Metrics() *Metrics { return r.metrics }

// Run relays until ctx ends, then returns nil. Failures (a node or runtime
// that does not answer, a refused batch) are logged and retried after a
// capped backoff; only a runtime of another chain than the node's stops it.
func (r *Relay) Run(ctx context.Context) error {
	bo := newBackoff(r.cfg.MinBackoff, r.cfg.MaxBackoff)
	for {
		caughtUp, err := r.round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := r.cfg.Poll
		switch {
		case errors.Is(err, ErrWrongChain):
			return err
		case err != nil:
			wait = bo.next()
			r.metrics.retries.Inc()
			r.log.Warn("relay round failed, retrying", "in", wait, "err", err)
			r.reconnect()
		case !caughtUp:
			bo.reset()
			continue
		default:
			bo.reset()
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// reconnect makes the next round dial the node afresh.
func (r *Relay) reconnect() {
	r.cfg.Source.Reconnect()
	if c, err := client.New(r.cfg.Chain.URL()); err == nil {
		r.cfg.Chain = c
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// round brings the runtime up to the chain's newest block, submits its
// egress and registers it if needed. It reports whether the runtime was
// caught up already, so that a round that fed blocks is followed at once
// by another: the chain moved on meanwhile.
func (r *Relay) round(ctx context.Context) (bool, error) {
	st, head, err := r.observe(ctx)
	if err != nil {
		return false, err
	}
	fed := false
	batches := &batchQueue{r: r, latest: head.Height}
	defer batches.close()
	for st.Height < head.Height {
		if st, err = r.feed(ctx, st, batches); err != nil {
			return false, err
		}
		fed = true
		r.progress.update(st.Height, head.Height)
		if err := r.flushEgress(ctx, head); err != nil {
			return false, err
		}
	}
	if !fed {
		r.progress.done()
	}
	if err := r.maybeRegister(ctx, st, head); err != nil {
		return false, err
	}
	if !fed {
		if err := r.flushEgress(ctx, head); err != nil {
			return false, err
		}
	}
	return !fed, nil
}

// observe reads the runtime's status and the node's head and checks they
// follow the same chain.
func (r *Relay) observe(ctx context.Context) (relaywire.Status, Head, error) {
	st, err := r.cfg.Runtime.Status(ctx)
	if err != nil {
		return st, Head{}, err
	}
	head, err := r.cfg.Source.Head(ctx)
	if err != nil {
		return st, head, err
	}
	if st.ChainID != head.ChainID {
		return st, head, ErrWrongChain.Wrapf("runtime on %q, node on %q", st.ChainID, head.ChainID)
	}
	r.chainID = head.ChainID
	r.metrics.chainHeight.Set(float64(head.Height))
	r.metrics.runtimeHeight.Set(float64(st.Height))
	return st, head, nil
}

// feed builds and hands the runtime the batch after st.
func (r *Relay) feed(ctx context.Context, st relaywire.Status, batches *batchQueue) (relaywire.Status, error) {
	b, err := batches.batch(ctx, st.Height)
	if err != nil {
		return st, err
	}
	next, err := r.cfg.Runtime.Feed(ctx, b)
	if err != nil {
		if ref, ok := refusal(err); ok {
			r.metrics.refusedBatch(ref)
		}
		return st, batchErr(st.Height, len(b.Blocks), err)
	}
	if next.Height <= st.Height {
		return st, ErrRuntimeAnswer.Wrapf("runtime took batch %d..%d but stayed at %d", st.Height+1, st.Height+int64(len(b.Blocks)), next.Height)
	}
	r.metrics.batchesFed.Inc()
	r.metrics.blocksFed.Add(float64(next.Height - st.Height))
	r.metrics.runtimeHeight.Set(float64(next.Height))
	return next, nil
}

func batchErr(verified int64, n int, err error) error {
	return fmt.Errorf("batch %d..%d: %w", verified+1, verified+int64(n), err)
}
