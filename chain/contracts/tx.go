package contracts

import (
	"crypto/sha256"
	"encoding"
	"hash"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// Every handler: decode, check (form, then params and state), charge (on
// top of the transaction fee the application already took), mutate, emit,
// publish for enclaves. An error discards all of the handler's writes,
// charges included.

// handleUpload takes one chunk of a code. Chunks of one (uploader, code
// hash) come in order; offset 0 (re)starts the upload. The chain keeps the
// SHA-256 state of the bytes so far and publishes the chunk itself for the
// enclaves, which assemble the code. A code already stored refuses every
// chunk (ErrCodeExists: clients check first and skip the upload), so the
// same code is one entry whoever uploads it. A last chunk whose bytes do
// not hash to the code hash is refused; the upload stays where it was, and
// the uploader starts again at offset 0.
func handleUpload(ctx *module.Context, body []byte) error {
	u, err := contractsapi.DecodeUpload(body)
	if err != nil {
		return err
	}
	p, err := getParams(ctx.Store)
	if err != nil {
		return err
	}
	if u.Size > p.MaxCodeSize {
		return contractsapi.ErrCodeTooLarge.Wrapf("%d bytes, at most %d", u.Size, p.MaxCodeSize)
	}
	if _, exists, err := getCode(ctx.Store, u.CodeHash); err != nil {
		return err
	} else if exists {
		return contractsapi.ErrCodeExists.Wrapf("%s", u.CodeHash)
	}
	up, ongoing, err := getUpload(ctx.Store, ctx.Sender, u.CodeHash)
	if err != nil {
		return err
	}
	h := sha256.New()
	if u.Offset == 0 {
		if ongoing { // a restart: the expiry clock starts again
			ctx.Store.Delete(contractsapi.UploadExpiryKeyOf(up.Started, ctx.Sender, u.CodeHash))
		}
		up = contractsapi.PendingUpload{CodeHash: u.CodeHash, Uploader: ctx.Sender, Size: u.Size, Started: ctx.Height}
	} else {
		switch {
		case !ongoing:
			return contractsapi.ErrUploadOrder.Wrapf("no upload of %s under way: start at offset 0", u.CodeHash)
		case u.Size != up.Size:
			return contractsapi.ErrUploadOrder.Wrapf("size %d, the upload began with %d", u.Size, up.Size)
		case u.Offset != up.Received:
			return contractsapi.ErrUploadOrder.Wrapf("offset %d, the next chunk starts at %d", u.Offset, up.Received)
		}
		if err := restoreHash(h, up.HashState); err != nil {
			return err
		}
	}
	fee, err := p.UploadFee(len(u.Chunk))
	if err != nil {
		return contractsapi.ErrCodeTooLarge.Wrapf("upload fee: %v", err)
	}
	if !fee.IsZero() {
		if err := bank.Move(ctx.Store, ctx.Sender, bankapi.Treasury, fee); err != nil {
			return err
		}
	}
	h.Write(u.Chunk)
	up.Received += uint64(len(u.Chunk))
	chunk := contractsapi.CodeChunk{Uploader: ctx.Sender, CodeHash: u.CodeHash, Size: u.Size, Offset: u.Offset, Chunk: u.Chunk}
	key := contractsapi.UploadKeyOf(ctx.Sender, u.CodeHash)
	if up.Received < up.Size {
		state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return contractsapi.ErrCorruptState.Wrapf("hash state: %v", err)
		}
		up.HashState = state
		ctx.Store.Set(key, codec.MustMarshal(up))
		ctx.Store.Set(contractsapi.UploadExpiryKeyOf(up.Started, ctx.Sender, u.CodeHash), []byte{})
		ctx.Emit(contractsapi.EventCodeChunk, module.A("code_hash", u.CodeHash), module.A("offset", u.Offset),
			module.A("received", up.Received), module.A("size", u.Size), module.A("upload_fee", fee))
		ctx.Publish(mq.Message{Topic: contractsapi.TopicCode, Payload: codec.MustMarshal(chunk)})
		return nil
	}
	var sum contractsapi.Hash
	h.Sum(sum[:0])
	if sum != u.CodeHash {
		return contractsapi.ErrCodeHash.Wrapf("the %d bytes hash to %s, not %s", u.Size, sum, u.CodeHash)
	}
	code := contractsapi.Code{Hash: u.CodeHash, Size: u.Size, Uploader: ctx.Sender, Height: ctx.Height}
	ctx.Store.Delete(key)
	ctx.Store.Delete(contractsapi.UploadExpiryKeyOf(up.Started, ctx.Sender, u.CodeHash))
	ctx.Store.Set(contractsapi.CodeKeyOf(u.CodeHash), codec.MustMarshal(code))
	ctx.Emit(contractsapi.EventCodeStored, module.A("code_hash", u.CodeHash), module.A("size", u.Size),
		module.A("uploader", ctx.Sender), module.A("upload_fee", fee))
	ctx.Publish(mq.Message{Topic: contractsapi.TopicCode, Payload: codec.MustMarshal(chunk)})
	ctx.Publish(mq.Message{Topic: contractsapi.TopicCodeStored, Payload: codec.MustMarshal(code)})
	return nil
}

func restoreHash(h hash.Hash, state []byte) error {
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return contractsapi.ErrCorruptState.Wrapf("hash state: %v", err)
	}
	return nil
}

// handleInstantiate creates a contract from stored code in a cluster
// whose public key exists (the init arguments are sealed to it), opens the
// contract's account, publishes the instantiation for the cluster's
// workers and asks the gatekeepers for the contract's key.
func handleInstantiate(ctx *module.Context, body []byte) error {
	in, err := contractsapi.DecodeInstantiate(body)
	if err != nil {
		return err
	}
	p, err := getParams(ctx.Store)
	if err != nil {
		return err
	}
	if err := contractsapi.CheckEnvelope(in.InitArgs, p.MaxSealedSize); err != nil {
		return err
	}
	if _, ok, err := getCode(ctx.Store, in.CodeHash); err != nil {
		return err
	} else if !ok {
		return contractsapi.ErrUnknownCode.Wrapf("%s (upload it first)", in.CodeHash)
	}
	if ok, err := keys.HasCluster(ctx.Store, in.Cluster); err != nil {
		return err
	} else if !ok {
		return contractsapi.ErrUnknownCluster.Wrapf("%q", in.Cluster)
	}
	publics, err := keys.ClusterPublics(ctx.Store, in.Cluster)
	if err != nil {
		return err
	}
	if len(publics) == 0 {
		return contractsapi.ErrUnknownCluster.Wrapf("cluster %q has no public key yet", in.Cluster)
	}
	id := contractsapi.ContractID(ctx.ChainID, ctx.Sender, in.CodeHash, in.Cluster, in.Salt)
	if _, exists, err := getContract(ctx.Store, id); err != nil {
		return err
	} else if exists {
		return contractsapi.ErrContractExists.Wrapf("%s (choose another salt)", id)
	}
	c := contractsapi.Contract{ID: id, CodeHash: in.CodeHash, Cluster: in.Cluster, Deployer: ctx.Sender, Salt: in.Salt, Height: ctx.Height}
	ctx.Store.Set(contractsapi.ContractKeyOf(id), codec.MustMarshal(c))
	if err := bank.OpenModuleAccount(ctx.Store, contractsapi.ContractAccount(id)); err != nil {
		return err
	}
	ctx.Emit(contractsapi.EventInstantiated, module.A("contract", id), module.A("code_hash", in.CodeHash),
		module.A("cluster", in.Cluster), module.A("deployer", ctx.Sender), module.A("account", contractsapi.ContractAccount(id)))
	ev := contractsapi.Instantiated{Contract: id, CodeHash: in.CodeHash, Cluster: in.Cluster, Deployer: ctx.Sender, InitArgs: in.InitArgs}
	ctx.Publish(mq.Message{Topic: contractsapi.TopicInstantiate, Payload: codec.MustMarshal(ev)})
	return keys.RequestContractKey(ctx, in.Cluster, id[:])
}

// handleCommand checks a command is for a contract whose key generation
// it names is recorded, reserves its gas into the escrow, moves its value
// to the contract's account, numbers it and publishes it for the workers.
func handleCommand(ctx *module.Context, body []byte) error {
	cmd, err := contractsapi.DecodeCommand(body)
	if err != nil {
		return err
	}
	p, err := getParams(ctx.Store)
	if err != nil {
		return err
	}
	if err := contractsapi.CheckEnvelope(cmd.Sealed, p.MaxSealedSize); err != nil {
		return err
	}
	if cmd.GasLimit > p.MaxGasLimit {
		return contractsapi.ErrGasLimit.Wrapf("%d, at most %d", cmd.GasLimit, p.MaxGasLimit)
	}
	c, ok, err := getContract(ctx.Store, cmd.Contract)
	if err != nil {
		return err
	}
	if !ok {
		return contractsapi.ErrUnknownContract.Wrapf("%s", cmd.Contract)
	}
	publics, err := keys.ContractPublics(ctx.Store, c.Cluster, c.ID[:])
	if err != nil {
		return err
	}
	if len(publics) == 0 {
		return contractsapi.ErrNoContractKey.Wrapf("contract %s: the gatekeepers have not published its key yet", c.ID)
	}
	known := false
	for _, pub := range publics {
		known = known || pub.Generation == cmd.Generation
	}
	if !known {
		return contractsapi.ErrNoContractKey.Wrapf("contract %s has no key of generation %d (newest %d)", c.ID, cmd.Generation, publics[len(publics)-1].Generation)
	}
	reserve, err := p.Reserve(cmd.GasLimit)
	if err != nil {
		return contractsapi.ErrGasLimit.Wrapf("reserve: %v", err)
	}
	if !reserve.IsZero() {
		if err := bank.Move(ctx.Store, ctx.Sender, contractsapi.Escrow, reserve); err != nil {
			return err
		}
	}
	account := contractsapi.ContractAccount(c.ID)
	if !cmd.Value.IsZero() {
		if err := bank.Move(ctx.Store, ctx.Sender, account, cmd.Value); err != nil {
			return err
		}
	}
	seq, err := nextCommandSeq(ctx.Store)
	if err != nil {
		return err
	}
	if err := recordPending(ctx.Store, contractsapi.PendingCommand{Seq: seq, Contract: c.ID, Cluster: c.Cluster, Sender: ctx.Sender,
		GasLimit: cmd.GasLimit, GasPrice: p.GasPrice, Reserved: reserve, Height: ctx.Height, Value: cmd.Value}); err != nil {
		return err
	}
	ctx.Emit(contractsapi.EventCommand, module.A("contract", c.ID), module.A("seq", seq), module.A("sender", ctx.Sender),
		module.A("gas_limit", cmd.GasLimit), module.A("reserved", reserve), module.A("value", cmd.Value))
	m := contractsapi.CommandMessage{Seq: seq, Contract: c.ID, Sender: ctx.Sender, Generation: cmd.Generation,
		Sealed: cmd.Sealed, GasLimit: cmd.GasLimit, Value: cmd.Value, TxHash: ctx.TxHash}
	ctx.Publish(mq.Message{Topic: contractsapi.TopicCommand, Payload: codec.MustMarshal(m)})
	return nil
}
