package client

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"fmt"
	"strconv"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

// Confidential contracts on chain: upload code in chunks, instantiate it
// in a cluster, send encrypted commands. Every encryption happens here;
// the chain sees envelopes only. Receipts come from the workers
// (receipts.go).

// ContractParams reads the contracts module's params.
func (c *Client) ContractParams(ctx context.Context) (contractsapi.Params, error) {
	var p contractsapi.Params
	err := c.Query(ctx, contractsapi.QueryParams, nil, &p)
	return p, err
}

// Code reads an uploaded code's record; module.ErrNotFound if there is none.
func (c *Client) Code(ctx context.Context, h contractsapi.Hash) (contractsapi.Code, error) {
	var out contractsapi.Code
	err := c.Query(ctx, contractsapi.QueryCode, h[:], &out)
	return out, err
}

// PendingUpload reads an upload under way.
func (c *Client) PendingUpload(ctx context.Context, uploader address.Address, h contractsapi.Hash) (contractsapi.PendingUpload, error) {
	data, err := codec.Marshal(contractsapi.UploadQuery{Uploader: uploader, CodeHash: h})
	if err != nil {
		return contractsapi.PendingUpload{}, err
	}
	var out contractsapi.PendingUpload
	err = c.Query(ctx, contractsapi.QueryUpload, data, &out)
	return out, err
}

// Contract reads a contract's record.
func (c *Client) Contract(ctx context.Context, id contractsapi.Hash) (contractsapi.Contract, error) {
	var out contractsapi.Contract
	err := c.Query(ctx, contractsapi.QueryContract, id[:], &out)
	return out, err
}

// Contracts reads one page of contracts by id, after after (zero: from the
// start), at most limit (0: the module's page size).
func (c *Client) Contracts(ctx context.Context, after contractsapi.Hash, limit uint32) (contractsapi.ContractList, error) {
	data, err := codec.Marshal(contractsapi.ListQuery{After: after, Limit: limit})
	if err != nil {
		return contractsapi.ContractList{}, err
	}
	var out contractsapi.ContractList
	err = c.Query(ctx, contractsapi.QueryContracts, data, &out)
	return out, err
}

// UploadOptions tune an upload.
type UploadOptions struct {
	// ChunkSize is the bytes per transaction (0: contractsapi.DefaultChunk).
	ChunkSize int
	// Progress, if set, is called after each chunk is accepted by the
	// node's mempool with the bytes sent so far and the code's size.
	Progress func(sent, total uint64)
}

// Uploaded is the outcome of an upload.
type Uploaded struct {
	CodeHash contractsapi.Hash
	Size     uint64
	Chunks   int  // transactions sent (0: the code was on chain already)
	Existed  bool // the same code was uploaded before: nothing was sent
	Resumed  uint64
	Last     Included // the last chunk's transaction (zero if Existed)
}

// Upload puts code on chain in chunks, one transaction each at
// consecutive nonces, all broadcast before waiting for the last one's
// block. Code already on chain is not sent again (the chain would refuse
// it: one entry per code). An upload of the same code by the same key
// left unfinished is resumed where the chain has it.
func (c *Client) Upload(ctx context.Context, key ed25519.PrivateKey, code []byte, o UploadOptions) (Uploaded, error) {
	out := Uploaded{CodeHash: sha256.Sum256(code), Size: uint64(len(code))}
	if len(code) == 0 {
		return out, contractsapi.ErrInvalid.Wrapf("empty code")
	}
	if _, err := c.Code(ctx, out.CodeHash); err == nil {
		out.Existed = true
		return out, nil
	} else if !isNotFound(err) {
		return out, err
	}
	p, err := c.ContractParams(ctx)
	if err != nil {
		return out, err
	}
	if out.Size > p.MaxCodeSize {
		return out, contractsapi.ErrCodeTooLarge.Wrapf("%d bytes, at most %d", out.Size, p.MaxCodeSize)
	}
	size := o.ChunkSize
	if size <= 0 {
		size = contractsapi.DefaultChunk
	}
	size = min(size, contractsapi.MaxChunk)
	pub := key.Public().(ed25519.PublicKey)
	var offset uint64
	if up, err := c.PendingUpload(ctx, address.FromPublicKey(pub), out.CodeHash); err == nil && up.Size == out.Size {
		offset, out.Resumed = up.Received, up.Received
	}
	nonce, err := c.nonce(ctx, pub, nil)
	if err != nil {
		return out, err
	}
	var last Submitted
	for offset < out.Size {
		end := min(offset+uint64(size), out.Size)
		body := contractsapi.Upload{CodeHash: out.CodeHash, Size: out.Size, Offset: offset, Chunk: code[offset:end]}
		n := nonce
		raw, err := c.Sign(ctx, key, contractsapi.MethodUpload, body, SendOptions{Nonce: &n})
		if err != nil {
			return out, err
		}
		if last, err = c.Broadcast(ctx, raw); err != nil {
			return out, fmt.Errorf("chunk at offset %d: %w", offset, err)
		}
		out.Chunks++
		nonce++
		offset = end
		if o.Progress != nil {
			o.Progress(offset, out.Size)
		}
	}
	inc, err := c.WaitTx(ctx, last.Hash)
	out.Last = inc
	if err != nil {
		return out, err
	}
	if err := inc.Err(); err != nil {
		// A chunk before the last may have failed in its block (the
		// sender ran out of funds, say), and every later one with it:
		// say where the chain stands, so the caller can resume.
		if up, qerr := c.PendingUpload(ctx, address.FromPublicKey(pub), out.CodeHash); qerr == nil {
			return out, fmt.Errorf("%w (the chain has %d of %d bytes: upload again to resume)", err, up.Received, up.Size)
		}
		return out, err
	}
	return out, nil
}

// isNotFound reports a query's "not found" answer (chain/module's
// ErrNotFound: codespace "query", code 3; the client links no module
// package).
func isNotFound(err error) bool {
	space, code := errs.Code(err)
	return space == "query" && code == 3
}

// InstantiateOptions are an instantiation's choices.
type InstantiateOptions struct {
	Cluster  string // "" is DefaultCluster
	Salt     []byte // tells apart contracts of one deployer from the same code
	InitArgs []byte // the constructor's arguments (JSON); sealed to the cluster
}

// DefaultCluster is the cluster contracts go to unless told otherwise.
const DefaultCluster = "default"

// Instantiated is an instantiation in a committed block.
type Instantiated struct {
	Included
	Contract contractsapi.Hash
	Cluster  string
}

// Instantiate creates a contract from uploaded code: the init arguments
// are sealed to the cluster's newest public key, bound to the contract id
// (computed here as the chain computes it). The contract's own key is
// derived by the gatekeepers after the block; ContractKeys shows it.
func (c *Client) Instantiate(ctx context.Context, key ed25519.PrivateKey, code contractsapi.Hash, o InstantiateOptions) (Instantiated, error) {
	if o.Cluster == "" {
		o.Cluster = DefaultCluster
	}
	out := Instantiated{Cluster: o.Cluster}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return out, err
	}
	cl, err := c.Cluster(ctx, o.Cluster)
	if err != nil {
		return out, fmt.Errorf("cluster %q: %w", o.Cluster, err)
	}
	if len(cl.Publics) == 0 {
		return out, contractsapi.ErrUnknownCluster.Wrapf("cluster %q has no public key yet", o.Cluster)
	}
	deployer := address.FromPublicKey(key.Public().(ed25519.PublicKey))
	out.Contract = contractsapi.ContractID(chainID, deployer, code, o.Cluster, o.Salt)
	plain, err := codec.Marshal(contractsapi.Init{Args: o.InitArgs})
	if err != nil {
		return out, err
	}
	sealed, err := envelope.SealTo(chainID, envelope.Command, envelope.Default, cl.Publics[len(cl.Publics)-1].PublicKey, plain, contractsapi.InitAAD(out.Contract))
	if err != nil {
		return out, err
	}
	out.Included, err = c.Send(ctx, key, contractsapi.MethodInstantiate,
		contractsapi.Instantiate{CodeHash: code, Cluster: o.Cluster, Salt: o.Salt, InitArgs: sealed})
	return out, err
}

// CommandOptions are a command's gas and value.
type CommandOptions struct {
	GasLimit uint64       // 0: DefaultCommandGas
	Value    token.Amount // moved to the contract's account
}

// DefaultCommandGas is a command's gas limit unless told otherwise: room
// for a Go contract's typical command (a token transfer takes 1 to 2
// million gas, more when it is the first of its block), reserved at the
// chain's gas price (0.1 PHA at the default) and refunded but for what is
// used.
const DefaultCommandGas = 100_000_000

// CommandSent is a command in a committed block. The workers of the
// contract's cluster seal its receipt to ReplyKey, which only this sender
// holds: WaitReceipt or FetchReceipt with Seq and ReplyKey read it.
type CommandSent struct {
	Included
	Seq        uint64 // the chain's number for the command
	Generation uint32 // the contract key generation it was sealed to
	ReplyKey   hpke.PrivateKey
}

// Command sends method with args (JSON) to a contract: sealed to the
// contract's newest public key, bound to the contract and the sender, with
// a fresh reply key inside.
func (c *Client) Command(ctx context.Context, key ed25519.PrivateKey, contract contractsapi.Hash, method string, args []byte, o CommandOptions) (CommandSent, error) {
	var out CommandSent
	if o.GasLimit == 0 {
		o.GasLimit = DefaultCommandGas
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return out, err
	}
	rec, err := c.Contract(ctx, contract)
	if err != nil {
		return out, fmt.Errorf("contract %s: %w", contract, err)
	}
	pubs, err := c.ContractKeys(ctx, rec.Cluster, contract[:])
	if err != nil {
		return out, err
	}
	if len(pubs) == 0 {
		return out, contractsapi.ErrNoContractKey.Wrapf("contract %s: the gatekeepers have not published its key yet", contract)
	}
	newest := pubs[len(pubs)-1]
	if out.ReplyKey, err = envelope.GenerateKey(envelope.Default); err != nil {
		return out, err
	}
	plain, err := codec.Marshal(contractsapi.CommandPlain{Method: method, Args: args, ReplyKey: out.ReplyKey.PublicKey().Bytes()})
	if err != nil {
		return out, err
	}
	sender := address.FromPublicKey(key.Public().(ed25519.PublicKey))
	sealed, err := envelope.SealTo(chainID, envelope.Command, envelope.Default, newest.PublicKey, plain, contractsapi.CommandAAD(contract, sender))
	if err != nil {
		return out, err
	}
	out.Generation = newest.Generation
	out.Included, err = c.Send(ctx, key, contractsapi.MethodCommand,
		contractsapi.Command{Contract: contract, Generation: newest.Generation, Sealed: sealed, GasLimit: o.GasLimit, Value: o.Value})
	if err != nil {
		return out, err
	}
	out.Seq = commandSeq(out.Included)
	return out, nil
}

// commandSeq reads the command's number from its event.
func commandSeq(inc Included) uint64 {
	if inc.Result == nil {
		return 0
	}
	for _, e := range inc.Result.TxResult.Events {
		if e.Type != contractsapi.EventCommand {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "seq" {
				n, _ := strconv.ParseUint(a.Value, 10, 64)
				return n
			}
		}
	}
	return 0
}
