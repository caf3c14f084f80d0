package pools

import (
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/tokenomics"
)

// EndBlock implements module.EndBlocker: every pool whose withdrawal queue
// waits is served from whatever stake came free in the block (a session's
// stake returned after its cool-down, which no transaction of the pool's
// carried), and a queue whose head waited beyond the grace period, with
// free and releasing stake short of it, stops the pool's workers. Pools
// with no queue cost nothing, and nothing is written when nothing changes.
func (Module) EndBlock(ctx *module.Context) error {
	var ids []poolsapi.ID
	prefix := poolsapi.QueuedPoolsKey.Prefix()
	err := ctx.Committed.Iterate(prefix, func(k, _ []byte) error {
		id, err := poolsapi.IDFromBytes(k[len(prefix):])
		ids = append(ids, id)
		return err
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := endBlockPool(ctx, id, params); err != nil {
			return err
		}
	}
	return nil
}

func endBlockPool(ctx *module.Context, id poolsapi.ID, params poolsapi.Params) error {
	p, ok, err := GetPool(ctx.Store, id)
	if err != nil || !ok || p.Head == p.Tail {
		return err
	}
	before := p
	if err := serveQueue(ctx, &p, params); err != nil {
		return err
	}
	if p.Head != before.Head || p.Queued != before.Queued {
		putPool(ctx.Store, p)
	}
	return forceStopIfDue(ctx, p, params)
}

// forceStopIfDue stops every computing worker of a pool whose queue head
// has waited longer than the grace period while free stake and the stake
// already cooling down cannot pay it: only stopping more sessions frees
// stake. Workers already cooling down are left alone, so the check
// settles into nothing to do.
func forceStopIfDue(ctx *module.Context, p poolsapi.Pool, params poolsapi.Params) error {
	if p.Head == p.Tail {
		return nil
	}
	e, ok, err := getEntry(ctx.Store, p.ID, p.Head)
	if err != nil || !ok {
		return err
	}
	if ctx.Time.UnixNano()-e.Since <= int64(params.WithdrawGrace) {
		return nil
	}
	due := tokenomics.ShareValue(e.Shares, p.Shares, p.Stake)
	if due.Cmp(mustAdd(p.Free, p.Releasing)) <= 0 {
		return nil
	}
	return forceStop(ctx, p)
}
