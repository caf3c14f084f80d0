package client

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
	"strings"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// Receipts come from the workers of the contract's cluster (their public
// API, GET /v1/receipts/{seq} or /v1/receipts/tx/{hash}): sealed to the
// command's reply key, which only the sender holds (CommandSent.ReplyKey),
// and signed by the worker's identity key; a command that never opened
// (undecryptable, a key generation the worker lacks, malformed) has a
// plain receipt holding its status alone. The workers are the caller's,
// or the cluster's as the chain lists them (ClusterWorkers).

// ReceiptAnswer is an opened receipt and who answered.
type ReceiptAnswer struct {
	workerwire.Receipt
	// Worker is the answering worker's identity key; Assigned says it is
	// one of the cluster's workers on chain (when a cluster was given).
	Worker   ed25519.PublicKey
	Assigned bool
	// AnsweredAt is the worker's verified height when it answered.
	AnsweredAt int64
	URL        string
}

// WorkerError is a worker's refusal: its HTTP status and coded error.
type WorkerError struct {
	URL     string
	Status  int
	Module  string `json:"module"`
	Code    uint32 `json:"code"`
	Message string `json:"message"`
}

func (e *WorkerError) Error() string {
	return fmt.Sprintf("worker %s: HTTP %d: %s/%d: %s", e.URL, e.Status, e.Module, e.Code, e.Message)
}

// NotYet reports a receipt the worker does not have (yet): 404.
func (e *WorkerError) NotYet() bool { return e.Status == http.StatusNotFound }

// maxAnswer bounds a worker's answer: a receipt holds at most an
// envelope (workerwire: 1 MiB of plaintext) in base64 JSON.
const maxAnswer = 2 << 20

var workerHTTP = &http.Client{Timeout: 10 * time.Second}

// FetchReceipt asks the worker at workerURL for command seq's receipt and
// opens it with the command's reply key, after checking the worker's
// signature. A worker without it answers a *WorkerError whose NotYet is
// true. The receipt's own status is in the answer (Receipt.Err).
func (c *Client) FetchReceipt(ctx context.Context, workerURL string, seq uint64, reply hpke.PrivateKey) (ReceiptAnswer, error) {
	return c.fetchReceipt(ctx, workerURL, workerwire.BySeq(seq), reply)
}

// FetchReceiptTx is FetchReceipt of the command transaction tx carried.
// reply may be nil: a plain receipt (a command that never opened) still
// reads, a sealed one is workerwire.ErrOpen.
func (c *Client) FetchReceiptTx(ctx context.Context, workerURL string, tx contractsapi.Hash, reply hpke.PrivateKey) (ReceiptAnswer, error) {
	return c.fetchReceipt(ctx, workerURL, workerwire.ByTx(tx), reply)
}

func (c *Client) fetchReceipt(ctx context.Context, workerURL string, ref workerwire.ReceiptRef, reply hpke.PrivateKey) (ReceiptAnswer, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return ReceiptAnswer{}, err
	}
	return fetchReceipt(ctx, chainID, workerURL, ref, reply)
}

func fetchReceipt(ctx context.Context, chainID, workerURL string, ref workerwire.ReceiptRef, reply hpke.PrivateKey) (ReceiptAnswer, error) {
	base := strings.TrimRight(workerURL, "/")
	var s workerwire.SignedReceipt
	if err := getWorkerJSON(ctx, base, ref.Path(), &s); err != nil {
		return ReceiptAnswer{}, err
	}
	r, err := s.Open(chainID, ref, reply)
	if err != nil {
		return ReceiptAnswer{}, fmt.Errorf("worker %s: %w", base, err)
	}
	return ReceiptAnswer{Receipt: r, Worker: ed25519.PublicKey(s.Worker), AnsweredAt: s.Height, URL: base}, nil
}

// getWorkerJSON GETs path from the worker at base and decodes its JSON
// answer strictly into out; a refusal is a *WorkerError.
func getWorkerJSON(ctx context.Context, base, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := workerHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("worker %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("worker %s: %w", base, err)
	}
	if len(body) > maxAnswer {
		return fmt.Errorf("worker %s: answer over %d bytes", base, maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		we := &WorkerError{URL: base, Status: resp.StatusCode}
		if json.Unmarshal(body, we) != nil {
			we.Message = strings.TrimSpace(string(body))
		}
		return we
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("worker %s: %w", base, workerwire.ErrMalformed.Wrapf("%v", err))
	}
	return nil
}

// ReceiptOptions say where and how to wait for a receipt.
type ReceiptOptions struct {
	// Workers are the public API URLs of workers of the contract's
	// cluster; the first to answer wins. None: the cluster's workers as
	// the chain lists them (their published endpoints).
	Workers []string
	// Cluster, when set, makes the answer's worker checked against the
	// cluster's workers on chain (ReceiptAnswer.Assigned); an answer from
	// a worker not assigned to it is refused.
	Cluster string
	// Poll is the wait between rounds (0: 50 ms).
	Poll time.Duration
}

// ErrNoWorkers: no worker URL to ask.
var ErrNoWorkers = errors.New("no worker URL to ask: give one (--worker, PHALA_WORKER or the client config's workers), or wait until the cluster's workers publish their endpoints on chain (phala query workers)")

// WaitReceipt asks the workers for command seq's receipt until one has it
// or ctx ends. Answers that do not verify or open are errors at once (a
// wrong reply key does not get better by waiting); a worker that is down
// or has no receipt yet is asked again.
func (c *Client) WaitReceipt(ctx context.Context, seq uint64, reply hpke.PrivateKey, o ReceiptOptions) (ReceiptAnswer, error) {
	return c.waitReceipt(ctx, workerwire.BySeq(seq), reply, o)
}

// WaitReceiptTx is WaitReceipt of the command transaction tx carried (its
// hash is known as soon as it is signed: CommandSent.Hash).
func (c *Client) WaitReceiptTx(ctx context.Context, tx contractsapi.Hash, reply hpke.PrivateKey, o ReceiptOptions) (ReceiptAnswer, error) {
	return c.waitReceipt(ctx, workerwire.ByTx(tx), reply, o)
}

func (c *Client) waitReceipt(ctx context.Context, ref workerwire.ReceiptRef, reply hpke.PrivateKey, o ReceiptOptions) (ReceiptAnswer, error) {
	if len(o.Workers) == 0 && o.Cluster == "" {
		return ReceiptAnswer{}, ErrNoWorkers
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return ReceiptAnswer{}, err
	}
	var assigned []ed25519.PublicKey
	if o.Cluster != "" {
		cl, err := c.Cluster(ctx, o.Cluster)
		if err != nil {
			return ReceiptAnswer{}, fmt.Errorf("cluster %q: %w", o.Cluster, err)
		}
		assigned = cl.Workers
	}
	workers, last := o.Workers, error(ErrNoWorkers)
	for {
		if len(workers) == 0 { // none given, none published yet: ask the chain each round
			if workers, err = c.ClusterWorkerURLs(ctx, o.Cluster); err != nil {
				return ReceiptAnswer{}, err
			}
		}
		for _, u := range workers {
			a, err := fetchReceipt(ctx, chainID, u, ref, reply)
			var we *WorkerError
			switch {
			case err == nil:
				if o.Cluster == "" {
					return a, nil
				}
				for _, w := range assigned {
					if w.Equal(a.Worker) {
						a.Assigned = true
						return a, nil
					}
				}
				return a, fmt.Errorf("worker %s (identity %x) answered, but is not assigned to cluster %q", a.URL, []byte(a.Worker), o.Cluster)
			case errors.As(err, &we) && we.NotYet():
				last = err
			case errors.As(err, &we):
				return ReceiptAnswer{}, err
			case isTransport(err):
				last = err
			default:
				return ReceiptAnswer{}, err
			}
		}
		select {
		case <-ctx.Done():
			return ReceiptAnswer{}, fmt.Errorf("no receipt for %s: %w (last answer: %v)", ref, ctx.Err(), last)
		case <-time.After(o.Poll):
		}
	}
}

// isTransport: a worker down or unreachable, not a wrong answer.
func isTransport(err error) bool {
	return !errors.Is(err, workerwire.ErrSignature) && !errors.Is(err, workerwire.ErrOpen) &&
		!errors.Is(err, workerwire.ErrMalformed) && !errors.Is(err, workerwire.ErrMismatch)
}

// SavedReply is a command's reply key as a file keeps it (JSON), so that
// its receipt can be read later (phala contract receipt). The key is a
// secret: whoever holds it reads the receipt.
type SavedReply struct {
	ChainID  string `json:"chain_id"`
	Contract string `json:"contract"`
	Seq      uint64 `json:"seq"`
	TxHash   string `json:"tx_hash,omitempty"` // the command's transaction (hex)
	Suite    uint16 `json:"suite"`
	Key      []byte `json:"reply_key"` // RFC 9180 SerializePrivateKey, base64
}

// SaveReply is sent's reply key in a SavedReply.
func SaveReply(chainID string, contract string, sent CommandSent) (SavedReply, error) {
	if sent.ReplyKey == nil {
		return SavedReply{}, errors.New("the command has no reply key")
	}
	s, err := envelope.SuiteOf(sent.ReplyKey.KEM())
	if err != nil {
		return SavedReply{}, err
	}
	b, err := sent.ReplyKey.Bytes()
	if err != nil {
		return SavedReply{}, err
	}
	return SavedReply{ChainID: chainID, Contract: contract, Seq: sent.Seq, TxHash: hex.EncodeToString(sent.Hash[:]), Suite: uint16(s), Key: b}, nil
}

// PrivateKey parses the saved reply key.
func (r SavedReply) PrivateKey() (hpke.PrivateKey, error) {
	kem, err := envelope.Suite(r.Suite).KEM()
	if err != nil {
		return nil, err
	}
	k, err := kem.NewPrivateKey(r.Key)
	if err != nil {
		return nil, envelope.ErrBadKey.Wrapf("reply key: %v", err)
	}
	return k, nil
}
