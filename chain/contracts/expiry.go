package contracts

import (
	"bytes"
	"errors"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

var _ module.EndBlocker = Module{}

// EndBlock implements module.EndBlocker: the commands of the block
// ResultsTimeout blocks back (and any older) that no results settled get
// their reserve back, and uploads started UploadTimeout blocks back that
// never finished are dropped. Both indexes are ordered by height, so a
// block reads only what is due: nothing at all, most blocks.
func (Module) EndBlock(ctx *module.Context) error {
	p, err := getParams(ctx.Store)
	if err != nil {
		return err
	}
	if err := expireResults(ctx, ctx.Height-int64(p.ResultsTimeout)); err != nil {
		return err
	}
	return expireUploads(ctx, ctx.Height-int64(p.UploadTimeout))
}

// errDone stops an iteration at the first entry not due yet.
var errDone = errors.New("done")

// dueKeys lists the keys under prefix, in order, while due says so. It
// reads the state committed before this block: what is due was written
// long before it, and whatever this block's transactions changed since is
// read back through ctx.Store by the caller.
func dueKeys(ctx *module.Context, prefix []byte, due func(key []byte) (bool, error)) ([][]byte, error) {
	var out [][]byte
	err := ctx.Committed.Iterate(prefix, func(k, _ []byte) error {
		ok, err := due(k)
		switch {
		case err != nil:
			return err
		case !ok:
			return errDone
		}
		out = append(out, bytes.Clone(k))
		return nil
	})
	if errors.Is(err, errDone) {
		err = nil
	}
	return out, err
}

// expireResults refunds the whole reserve of every command of a (height,
// cluster) at or below last that is still unsettled, and marks the pair
// expired so that late results are refused (ErrResultsExpired).
func expireResults(ctx *module.Context, last int64) error {
	if last < 1 {
		return nil
	}
	keys, err := dueKeys(ctx, contractsapi.BlockCommandsKey.Prefix(), func(k []byte) (bool, error) {
		h, _, ok := contractsapi.ParseBlockCommandsKey(k)
		if !ok {
			return false, contractsapi.ErrCorruptState.Wrapf("block command key %x", k)
		}
		return h <= last, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		height, cluster, _ := contractsapi.ParseBlockCommandsKey(k)
		if err := expireBlock(ctx, height, cluster); err != nil {
			return err
		}
	}
	return nil
}

func expireBlock(ctx *module.Context, height int64, cluster string) error {
	seqs, err := blockCommands(ctx.Store, height, cluster)
	if err != nil || len(seqs) == 0 {
		return err // settled by a result in this very block
	}
	var refunded token.Amount
	for _, seq := range seqs {
		p, ok, err := getPending(ctx.Store, seq)
		if err != nil {
			return err
		}
		if !ok {
			return contractsapi.ErrCorruptState.Wrapf("command %d is in block %d's list but not pending", seq, height)
		}
		if err := pay(ctx.Store, p.Sender, p.Reserved); err != nil {
			return err
		}
		ctx.Store.Delete(contractsapi.PendingCommandKeyOf(seq))
		if refunded, err = refunded.Add(p.Reserved); err != nil {
			return contractsapi.ErrCorruptState.Wrapf("refunds of block %d: %v", height, err)
		}
	}
	ctx.Store.Delete(contractsapi.BlockCommandsKeyOf(height, cluster))
	ctx.Store.Set(contractsapi.ExpiredKeyOf(height, cluster), []byte{})
	ctx.Emit(contractsapi.EventExpired, module.A("height", uint64(height)), module.A("cluster", cluster),
		module.A("commands", uint64(len(seqs))), module.A("refunded", refunded))
	return nil
}

// expireUploads drops every upload whose current attempt started at or
// below last. Its fees stay paid: the chain carried its chunks.
func expireUploads(ctx *module.Context, last int64) error {
	if last < 1 {
		return nil
	}
	keys, err := dueKeys(ctx, contractsapi.UploadExpiryKey.Prefix(), func(k []byte) (bool, error) {
		started, _, _, ok := contractsapi.ParseUploadExpiryKey(k)
		if !ok {
			return false, contractsapi.ErrCorruptState.Wrapf("upload expiry key %x", k)
		}
		return started <= last, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := expireUpload(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func expireUpload(ctx *module.Context, indexKey []byte) error {
	if v, err := ctx.Store.Get(indexKey); err != nil || v == nil {
		return err // finished or restarted in this very block
	}
	started, uploader, h, _ := contractsapi.ParseUploadExpiryKey(indexKey)
	up, ok, err := getUpload(ctx.Store, uploader, h)
	if err != nil {
		return err
	}
	if !ok || up.Started != started {
		return contractsapi.ErrCorruptState.Wrapf("expiry index names an upload of %s by %s started at %d, which is not under way", h, uploader, started)
	}
	ctx.Store.Delete(indexKey)
	ctx.Store.Delete(contractsapi.UploadKeyOf(uploader, h))
	ctx.Emit(contractsapi.EventUploadExpired, module.A("code_hash", h), module.A("uploader", uploader),
		module.A("received", up.Received), module.A("size", up.Size), module.A("started", uint64(started)))
	ctx.Publish(mq.Message{Topic: contractsapi.TopicUploadDropped, Payload: codec.MustMarshal(contractsapi.UploadDropped{Uploader: uploader, CodeHash: h})})
	return nil
}
