package gov

import (
	"encoding/binary"
	"errors"

	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// MaxEndsPerBlock bounds how many proposals one block ends, so that a
// flood of proposals ending together cannot stall a block; the rest end
// in the next blocks, in the order of their ends.
const MaxEndsPerBlock = 16

var errEnough = errors.New("enough for this block")

// EndBlock implements module.EndBlocker: every proposal whose current
// period ended by this block's time ends, in the order of their ends. A
// block with none due reads one index key and writes nothing.
func (Module) EndBlock(ctx *module.Context) error {
	due, err := dueProposals(ctx)
	if err != nil {
		return err
	}
	for _, d := range due {
		if err := endPeriod(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// dueEntry is one entry of the ends index.
type dueEntry struct {
	end int64
	id  uint64
}

// dueProposals reads the ends index on committed state (overlays do not
// iterate) up to this block's time. Every entry is at least a second in
// the future when written, so none written in this block is due yet.
func dueProposals(ctx *module.Context) ([]dueEntry, error) {
	var out []dueEntry
	prefix := govapi.EndsKey.Prefix()
	now := ctx.Time.UnixNano()
	err := ctx.Committed.Iterate(prefix, func(k, _ []byte) error {
		rest := k[len(prefix):]
		if len(rest) != 16 {
			return govapi.ErrCorruptState.Wrapf("ends index key of %d bytes", len(rest))
		}
		e := dueEntry{end: int64(binary.BigEndian.Uint64(rest[:8])), id: binary.BigEndian.Uint64(rest[8:])}
		if e.end > now || len(out) == MaxEndsPerBlock {
			return errEnough
		}
		out = append(out, e)
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}

// endPeriod ends the period of one due proposal. An entry this block's
// transactions made stale (a deposit that opened the voting period)
// names a proposal whose current end differs: it is skipped, its key
// already deleted.
//
// Params are read for each proposal: one that ended before it in this
// block may have changed them.
func endPeriod(ctx *module.Context, d dueEntry) error {
	p, err := mustProposal(ctx.Store, d.id)
	if err != nil {
		return err
	}
	if end, open := currentEnd(p); !open || end != d.end {
		return nil
	}
	unindex(ctx.Store, p)
	if p.Status == govapi.StatusDeposit {
		return drop(ctx, p)
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	return closeVoting(ctx, p, params)
}

// drop ends a deposit period that fell short of MinDeposit: the deposits
// go back.
func drop(ctx *module.Context, p govapi.Proposal) error {
	if err := settleDeposits(ctx, p.ID, false); err != nil {
		return err
	}
	p.Status, p.EndHeight = govapi.StatusDropped, ctx.Height
	p.Outcome = "the deposit period ended below the minimum deposit; deposits refunded"
	putProposal(ctx.Store, p)
	ctx.Emit(govapi.EventDropped, module.A("proposal", p.ID), module.A("deposit", p.TotalDeposit))
	return nil
}

// closeVoting counts the votes, runs a passed proposal's actions and
// settles its deposits: refunded, unless it was vetoed or missed the
// quorum.
func closeVoting(ctx *module.Context, p govapi.Proposal, params govapi.Params) error {
	t, err := count(ctx.Committed, p.ID)
	if err != nil {
		return err
	}
	p.Tally, p.EndHeight = t, ctx.Height
	p.Status = decide(t, params)
	switch p.Status {
	case govapi.StatusPassed:
		p.Outcome = "passed; its actions ran"
		if err := execute(ctx, p); err != nil {
			p.Status, p.Outcome = govapi.StatusFailed, err.Error()
		}
	case govapi.StatusRejected:
		p.Outcome = "the threshold of yes was not reached; deposits refunded"
	case govapi.StatusVetoed:
		p.Outcome = "vetoed; deposits burned"
	case govapi.StatusNoQuorum:
		p.Outcome = "too few votes for the quorum; deposits burned"
	}
	burn := p.Status == govapi.StatusVetoed || p.Status == govapi.StatusNoQuorum
	if err := settleDeposits(ctx, p.ID, burn); err != nil {
		return err
	}
	putProposal(ctx.Store, p)
	ctx.Emit(govapi.EventEnded, module.A("proposal", p.ID), module.A("status", p.Status),
		module.A("yes", t.Yes), module.A("no", t.No), module.A("abstain", t.Abstain), module.A("veto", t.Veto),
		module.A("eligible", t.Eligible), module.A("voters", t.Voters))
	return nil
}

// execute runs every action with governance as its sender on one branch:
// all of them stay, or, if one fails, none.
func execute(ctx *module.Context, p govapi.Proposal) error {
	return ctx.Try(func(sub *module.Context) error {
		sub.Sender, sub.SenderKey = authority.Gov, nil
		for i, a := range p.Actions {
			if err := sub.Dispatch(sub, a.Method, a.Body); err != nil {
				return govapi.ErrBadAction.Wrapf("action %d (%s): %v", i, a.Method, err)
			}
			sub.Emit(govapi.EventExecuted, module.A("proposal", p.ID), module.A("action", uint64(i)), module.A("method", a.Method))
		}
		return nil
	})
}

// settleDeposits refunds every deposit on proposal id, or burns them all
// (moves them to bankapi.Burned), and deletes their records. Deposits are
// only taken before the period's end, so committed state holds them all.
func settleDeposits(ctx *module.Context, id uint64, burn bool) error {
	type deposit struct {
		who    address.Address
		amount token.Amount
	}
	var all []deposit
	prefix := govapi.DepositKey.Key(govapi.IDBytes(id))
	err := ctx.Committed.Iterate(prefix, func(k, v []byte) error {
		who, err := address.FromBytes(k[len(prefix):])
		if err != nil {
			return govapi.ErrCorruptState.Wrapf("deposit key: %v", err)
		}
		var a token.Amount
		if err := codec.Unmarshal(v, &a); err != nil {
			return govapi.ErrCorruptState.Wrapf("deposit: %v", err)
		}
		all = append(all, deposit{who, a})
		return nil
	})
	if err != nil {
		return err
	}
	if burn {
		if err := bank.OpenModuleAccount(ctx.Store, bankapi.Burned); err != nil {
			return err
		}
	}
	for _, d := range all {
		to := d.who
		if burn {
			to = bankapi.Burned
		}
		if err := bank.Move(ctx.Store, govapi.Deposits, to, d.amount); err != nil {
			return govapi.ErrCorruptState.Wrapf("settling proposal %d's deposit of %s: %v", id, d.who, err)
		}
		ctx.Store.Delete(govapi.DepositKeyOf(id, d.who))
	}
	return nil
}
