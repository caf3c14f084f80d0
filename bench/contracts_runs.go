package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/mempool"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/workerwire"
)

// commandGas is each benchmark transfer's gas limit: a token transfer
// takes 1 to 2 million; the rest is reserved and refunded.
const commandGas = 10_000_000

// contractHandle is a deployed contract with its newest public key.
type contractHandle struct {
	id  contractsapi.Hash
	pub keysapi.ContractPublic
}

// deploy uploads the token (once) and instantiates it from s with salt,
// then waits for the gatekeeper to publish the contract's key.
func (b *contractsBench) deploy(ctx context.Context, s sender, salt []byte, init string) (contractHandle, error) {
	up, err := b.cl.Upload(ctx, s.key, b.o.Code, client.UploadOptions{})
	if err != nil {
		return contractHandle{}, err
	}
	inst, err := b.cl.Instantiate(ctx, s.key, up.CodeHash, client.InstantiateOptions{Salt: salt, InitArgs: []byte(init)})
	if err != nil {
		return contractHandle{}, err
	}
	return b.waitKey(ctx, inst.Contract)
}

func (b *contractsBench) waitKey(ctx context.Context, id contractsapi.Hash) (contractHandle, error) {
	for {
		pubs, err := b.cl.ContractKeys(ctx, client.DefaultCluster, id[:])
		if err == nil && len(pubs) > 0 {
			return contractHandle{id: id, pub: pubs[len(pubs)-1]}, nil
		}
		select {
		case <-ctx.Done():
			return contractHandle{}, fmt.Errorf("the key of contract %s was not published: %w", id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// commandSigner seals and signs token transfers to one contract.
type commandSigner struct {
	chainID  string
	contract contractHandle
	fee      token.Amount
	reply    []byte // one reply key for every benchmark command
}

func (b *contractsBench) newCommandSigner(ctx context.Context) (commandSigner, error) {
	chainID, err := b.cl.ChainID(ctx)
	if err != nil {
		return commandSigner{}, err
	}
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return commandSigner{}, err
	}
	cs := commandSigner{chainID: chainID, contract: b.contract, reply: reply.PublicKey().Bytes(), fee: tokenMax()}
	probe, err := cs.sign(b.senders[0], 1<<31, b.senders[1].addr, 1<<40)
	if err != nil {
		return commandSigner{}, err
	}
	p, err := b.cl.Params(ctx)
	if err != nil {
		return commandSigner{}, err
	}
	cs.fee, err = p.Fee(len(probe))
	return cs, err
}

// sign is s's transfer of amount tokens to to, with nonce.
func (cs commandSigner) sign(s sender, nonce uint64, to address.Address, amount uint64) ([]byte, error) {
	args := `{"to":"` + hex.EncodeToString(to[:]) + `","amount":` + strconv.FormatUint(amount, 10) + `}`
	plain := codec.MustMarshal(contractsapi.CommandPlain{Method: "transfer", Args: []byte(args), ReplyKey: cs.reply})
	sealed, err := envelope.SealTo(cs.chainID, envelope.Command, envelope.Default, cs.contract.pub.PublicKey, plain, contractsapi.CommandAAD(cs.contract.id, s.addr))
	if err != nil {
		return nil, err
	}
	env, err := tx.New(cs.chainID, s.pub, nonce, cs.fee, client.DefaultGasLimit, contractsapi.MethodCommand,
		contractsapi.Command{Contract: cs.contract.id, Generation: cs.contract.pub.Generation, Sealed: sealed, GasLimit: commandGas})
	if err != nil {
		return nil, err
	}
	return env.Sign(s.key)
}

// transferJob is one command to sign: from, nonce, to, amount.
type transferJob struct {
	from   sender
	nonce  uint64
	to     address.Address
	amount uint64
}

// signAll signs the jobs on every core, in order.
func (cs commandSigner) signAll(ctx context.Context, jobs []transferJob) ([][]byte, error) {
	out := make([][]byte, len(jobs))
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := jobs[k]
				raw, err := cs.sign(j.from, j.nonce, j.to, j.amount)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				out[k] = raw
			}
		})
	}
	wg.Wait()
	return out, errors.Join(firstErr, ctx.Err())
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// nonces reads each sender's next nonce.
func (b *contractsBench) nonces(ctx context.Context, senders []sender) ([]uint64, error) {
	out := make([]uint64, len(senders))
	for i, s := range senders {
		acc, err := b.cl.Account(ctx, s.addr)
		if err != nil {
			return nil, err
		}
		out[i] = acc.Nonce
	}
	return out, nil
}

// commands measures encrypted transfers committed and executed per
// second (see the package comment of contracts.go).
func (b *contractsBench) commands(ctx context.Context) (CommandsResult, error) {
	cs, err := b.newCommandSigner(ctx)
	if err != nil {
		return CommandsResult{}, err
	}
	// Give every sender tokens first: the deployer holds the supply.
	n, err := b.nonces(ctx, b.senders)
	if err != nil {
		return CommandsResult{}, err
	}
	var fund []transferJob
	for i, s := range b.senders[1:] {
		fund = append(fund, transferJob{from: b.senders[0], nonce: n[0] + uint64(i), to: s.addr, amount: 1 << 30})
	}
	fmt.Fprintf(b.o.Progress, "commands: funding %d senders with tokens\n", len(fund))
	if _, err := b.submitAndSettle(ctx, cs, fund); err != nil {
		return CommandsResult{}, fmt.Errorf("funding: %w", err)
	}
	if n, err = b.nonces(ctx, b.senders); err != nil {
		return CommandsResult{}, err
	}
	jobs := make([]transferJob, b.o.Commands)
	S := len(b.senders)
	for k := range jobs {
		i := k % S
		jobs[k] = transferJob{from: b.senders[i], nonce: n[i] + uint64(k/S), to: b.senders[(i+1)%S].addr, amount: 1}
	}
	fmt.Fprintf(b.o.Progress, "commands: sealing and signing %d transfers from %d senders\n", len(jobs), S)
	return b.submitAndSettle(ctx, cs, jobs)
}

// submitAndSettle signs the jobs, then feeds them to the mempool and
// waits for their results to settle on chain: the measured part.
func (b *contractsBench) submitAndSettle(ctx context.Context, cs commandSigner, jobs []transferJob) (CommandsResult, error) {
	txs, err := cs.signAll(ctx, jobs)
	if err != nil {
		return CommandsResult{}, err
	}
	from := b.v.Node.Height() + 1
	cpu0 := processCPU()
	start := time.Now()
	mp := b.v.Node.Comet().Mempool()
	for _, raw := range txs {
		if err := checkTx(ctx, mp, raw); err != nil {
			return CommandsResult{}, err
		}
	}
	fmt.Fprintf(b.o.Progress, "commands: %d submitted in %s; waiting for their results on chain\n", len(txs), time.Since(start).Round(time.Millisecond))
	res := CommandsResult{Submitted: len(txs)}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	seen := map[string]bool{} // height/cluster of results counted
	blocks := map[int64]bool{}
	for h := from; res.SettledOK+res.Failed < len(txs); {
		latest := b.v.Node.Height()
		for ; h <= latest; h++ {
			var blk mq.Block
			if err := b.cl.Query(wctx, chainapi.QueryBlock, codec.MustMarshal(h), &blk); err != nil {
				break // the application may still be committing it
			}
			for _, r := range acceptedResults(blk) {
				key := strconv.FormatInt(r.Height, 10) + "/" + r.Cluster
				if r.Height < from || seen[key] {
					continue
				}
				seen[key] = true
				blocks[r.Height] = true
				for _, c := range r.Commands {
					if c.Status == contractsapi.StatusOK {
						res.SettledOK++
					} else {
						res.Failed++
					}
				}
			}
		}
		if err := sleepCtx(wctx, 20*time.Millisecond); err != nil {
			return res, fmt.Errorf("%d of %d commands settled: %w", res.SettledOK+res.Failed, len(txs), err)
		}
	}
	res.Elapsed = time.Since(start)
	res.CPU = processCPU() - cpu0
	res.Blocks = len(blocks)
	res.PerSecond = float64(res.SettledOK) / res.Elapsed.Seconds()
	fmt.Fprintf(b.o.Progress, "commands: %d ok, %d failed, in %d blocks, %s: %.0f/s\n", res.SettledOK, res.Failed, res.Blocks, res.Elapsed.Round(time.Millisecond), res.PerSecond)
	return res, nil
}

// checkTx adds raw to the mempool, waiting while it is full.
func checkTx(ctx context.Context, mp mempool.Mempool, raw []byte) error {
	for {
		rr, err := mp.CheckTx(raw, "")
		var full mempool.ErrMempoolIsFull
		switch {
		case errors.As(err, &full) || errors.Is(err, mempool.ErrRecheckFull):
			if err := sleepCtx(ctx, time.Millisecond); err != nil {
				return err
			}
			continue
		case err == nil:
			err = rr.Error()
		}
		if err != nil {
			return fmt.Errorf("the mempool refused a command: %w", err)
		}
		return nil
	}
}

// acceptedResults are the contracts.results a block's messages accepted.
func acceptedResults(blk mq.Block) []contractsapi.Results {
	var out []contractsapi.Results
	for _, m := range blk.Messages {
		if m.Topic != mq.TopicEgress {
			continue
		}
		rp, err := mq.DecodeRepublished(m.Payload)
		if err != nil || rp.Egress.Egress.Topic != contractsapi.TopicResults || rp.Outcome != mq.OutcomeAccepted {
			continue
		}
		if r, err := contractsapi.DecodeResults(rp.Egress.Egress.Payload); err == nil {
			out = append(out, r)
		}
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// latency sends transfers one at a time: submitted to the node's RPC,
// its inclusion and then its receipt polled every 5 ms.
func (b *contractsBench) latency(ctx context.Context) (LatencyResult, error) {
	cs, err := b.newCommandSigner(ctx)
	if err != nil {
		return LatencyResult{}, err
	}
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return LatencyResult{}, err
	}
	cs.reply = reply.PublicKey().Bytes()
	s, to := b.senders[1], b.senders[2].addr
	n, err := b.nonces(ctx, []sender{s})
	if err != nil {
		return LatencyResult{}, err
	}
	h0, t0 := b.v.Node.Height(), time.Now()
	var lat, inc []time.Duration
	for i := range b.o.LatencyCommands {
		raw, err := cs.sign(s, n[0]+uint64(i), to, 1)
		if err != nil {
			return LatencyResult{}, err
		}
		in, d, err := b.submitToReceipt(ctx, raw, reply)
		if err != nil {
			return LatencyResult{}, err
		}
		lat, inc = append(lat, d), append(inc, in)
	}
	res := LatencyResult{Count: len(lat), P50: percentile(lat, 0.50), P99: percentile(lat, 0.99), Included: percentile(inc, 0.50)}
	if blocks := b.v.Node.Height() - h0; blocks > 0 {
		res.BlockInterval = time.Since(t0) / time.Duration(blocks)
	}
	fmt.Fprintf(b.o.Progress, "latency: %d commands, p50 %s p99 %s (in a block after %s), block interval %s\n", res.Count, res.P50.Round(time.Millisecond), res.P99.Round(time.Millisecond), res.Included.Round(time.Millisecond), res.BlockInterval.Round(time.Millisecond))
	return res, nil
}

// submitToReceipt broadcasts raw and returns how long until it was in a
// committed block and until its receipt opened.
func (b *contractsBench) submitToReceipt(ctx context.Context, raw []byte, reply hpke.PrivateKey) (included, receipt time.Duration, err error) {
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	sub, err := b.cl.Broadcast(wctx, raw)
	if err != nil {
		return 0, 0, err
	}
	var seq uint64
	for seq == 0 {
		if t, err := b.cl.Tx(wctx, sub.Hash[:]); err == nil {
			if seq = commandSeq(t.TxResult.Events); seq == 0 {
				return 0, 0, fmt.Errorf("command %X: no sequence number in its events (code %d: %s)", sub.Hash, t.TxResult.Code, t.TxResult.Log)
			}
			break
		}
		if err := sleepCtx(wctx, 5*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	included = time.Since(start)
	for {
		for _, u := range b.workerURLs() {
			a, err := b.cl.FetchReceipt(wctx, u, seq, reply)
			if err != nil {
				continue
			}
			if a.Status != contractsapi.StatusOK {
				return 0, 0, fmt.Errorf("command %d: %v", seq, a.Err())
			}
			return included, time.Since(start), nil
		}
		if err := sleepCtx(wctx, 5*time.Millisecond); err != nil {
			return 0, 0, fmt.Errorf("command %d: no receipt: %w", seq, err)
		}
	}
}

// commandSeq reads a command's number from its transaction's events.
func commandSeq(events []cometrpc.Event) uint64 {
	for _, e := range events {
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

// sealedQueries seals n one-shot total_supply queries (anonymous, each
// its own nonce) to c, valid for MaxQueryWindow blocks from height.
func sealedQueries(chainID string, c contractHandle, height int64, n int) ([]workerwire.QueryRequest, error) {
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return nil, err
	}
	out := make([]workerwire.QueryRequest, n)
	for i := range out {
		q := workerwire.QueryPlain{Contract: c.id, Method: "total_supply", Args: []byte(`{}`), Nonce: workerwire.NewNonce(),
			Expiry: height + workerwire.MaxQueryWindow, ReplyKey: reply.PublicKey().Bytes()}
		sealed, err := envelope.SealTo(chainID, envelope.Query, envelope.Default, c.pub.PublicKey, codec.MustMarshal(q), workerwire.QueryAAD(c.id))
		if err != nil {
			return nil, err
		}
		out[i] = workerwire.QueryRequest{Contract: c.id, Generation: c.pub.Generation, Sealed: sealed}
	}
	return out, nil
}

// firstAnswer posts the queries to the worker at url one after the other
// until one is answered (each only once: a nonce is never sent twice).
func firstAnswer(ctx context.Context, url string, queries []workerwire.QueryRequest) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	var last string
	for _, q := range queries {
		body, _ := json.Marshal(q)
		resp, err := hc.Post(url+workerwire.PathQuery, "application/json", bytes.NewReader(body))
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
		} else {
			last = err.Error()
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("no answer after %d queries; the last: %s", len(queries), last)
}

// tokenMax is the largest fee encoding, to size a transaction before its
// fee is known (as the client does).
func tokenMax() token.Amount { return bankapi.TotalSupply }

// percentile is the q-quantile of ds (sorted in place).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[int(q*float64(len(ds)-1)+0.5)]
}

// queries measures signed queries over HTTP to one worker through the Go
// client (which uses a query session after the first query of a caller).
func (b *contractsBench) queries(ctx context.Context) (QueriesResult, error) {
	url := b.workerURLs()[:1]
	ask := func(key ed25519.PrivateKey) error {
		a, err := b.cl.ContractQuery(ctx, b.contract.id, "balance", []byte(`{}`), client.QueryOptions{Workers: url, Key: key})
		if err == nil {
			err = a.Err()
		}
		return err
	}
	one := ed25519.NewKeyFromSeed(keyring.DevSeed("bench-caller-one"))
	for range 2 { // the one-shot query, then the one that opens the session
		if err := ask(one); err != nil {
			return QueriesResult{}, err
		}
	}
	var lat []time.Duration
	for range b.o.Queries {
		t0 := time.Now()
		if err := ask(one); err != nil {
			return QueriesResult{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	res := QueriesResult{OneCallerCount: len(lat), P50: percentile(lat, 0.50), P99: percentile(lat, 0.99), Callers: b.o.Callers}
	fmt.Fprintf(b.o.Progress, "queries: one caller, %d queries: p50 %s p99 %s\n", len(lat), res.P50, res.P99)

	keys := make([]ed25519.PrivateKey, b.o.Callers)
	for i := range keys {
		keys[i] = ed25519.NewKeyFromSeed(keyring.DevSeed(fmt.Sprintf("bench-caller-%d", i)))
		for range 2 {
			if err := ask(keys[i]); err != nil {
				return res, err
			}
		}
	}
	var answered, refused atomic.Int64
	var firstErr atomic.Value
	cpu0 := processCPU()
	start := time.Now()
	end := start.Add(b.o.QueryDuration)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				if err := ask(k); err != nil {
					refused.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Answered, res.Refused = int(answered.Load()), int(refused.Load())
	res.PerSecond = float64(res.Answered) / res.Elapsed.Seconds()
	if res.Answered > 0 {
		res.CPU = (processCPU() - cpu0) / time.Duration(res.Answered)
	}
	fmt.Fprintf(b.o.Progress, "queries: %d callers for %s: %d answered (%.0f/s, %s process CPU each), %d refused\n", len(keys), res.Elapsed.Round(time.Millisecond), res.Answered, res.PerSecond, res.CPU.Round(time.Microsecond), res.Refused)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(b.o.Progress, "queries: first refusal: %s\n", e)
	}
	return res, nil
}

// restart deploys contracts until the cluster runs o.Contracts, stops the
// second worker once it has them all, starts it again and times its first
// answered query.
func (b *contractsBench) restart(ctx context.Context) (RestartResult, error) {
	more := b.o.Contracts - 1 // the token is one
	fmt.Fprintf(b.o.Progress, "restart: deploying %d more contracts\n", more)
	ids, err := b.deployMany(ctx, more)
	if err != nil {
		return RestartResult{}, err
	}
	last, err := b.waitKey(ctx, ids[len(ids)-1])
	if err != nil {
		return RestartResult{}, err
	}
	for _, id := range ids {
		if _, err := b.waitKey(ctx, id); err != nil {
			return RestartResult{}, err
		}
	}
	w := b.workers[1]
	target := b.v.Node.Height()
	for w.Runtime.Status().Height < target {
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return RestartResult{}, err
		}
	}
	chainID, _ := b.cl.ChainID(ctx)
	bodies, err := sealedQueries(chainID, last, target, 1000)
	if err != nil {
		return RestartResult{}, err
	}
	res := RestartResult{Contracts: b.o.Contracts}
	t0 := time.Now()
	if err := w.Stop(); err != nil {
		return res, err
	}
	res.Stop = time.Since(t0)
	b.workers = b.workers[:1]
	fmt.Fprintf(b.o.Progress, "restart: worker2 stopped at height %d with %d contracts (%s); starting it again\n", target, b.o.Contracts, res.Stop.Round(time.Millisecond))
	t0 = time.Now()
	nw, err := devworker.Start(b.home, b.v, devworker.Worker2Role, b.log)
	if err != nil {
		return res, err
	}
	res.Open = time.Since(t0)
	b.workers = append(b.workers, nw)
	if err := firstAnswer(ctx, nw.PublicURL(), bodies); err != nil {
		return res, err
	}
	res.FirstQuery = time.Since(t0)
	fmt.Fprintf(b.o.Progress, "restart: first query answered %s after the start (runtime open %s)\n", res.FirstQuery.Round(time.Millisecond), res.Open.Round(time.Millisecond))
	return res, nil
}

// deployMany instantiates n more tokens from eight senders at once.
func (b *contractsBench) deployMany(ctx context.Context, n int) ([]contractsapi.Hash, error) {
	up, err := b.cl.Upload(ctx, b.senders[0].key, b.o.Code, client.UploadOptions{})
	if err != nil {
		return nil, err
	}
	ids := make([]contractsapi.Hash, n)
	const parallel = 8
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for p := range parallel {
		wg.Go(func() {
			s := b.senders[1+p%(len(b.senders)-1)]
			for i := p; i < n; i += parallel {
				inst, err := b.cl.Instantiate(ctx, s.key, up.CodeHash, client.InstantiateOptions{Salt: []byte("bench-" + strconv.Itoa(i)), InitArgs: []byte(`{"supply":1000}`)})
				if err == nil {
					err = inst.Err()
				}
				if err != nil {
					errs[p] = err
					return
				}
				ids[i] = inst.Contract
			}
		})
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}
