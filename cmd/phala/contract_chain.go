package main

import (
	"context"
	"crypto/hpke"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/workerwire"
)

// Contracts on chain: upload a built .wasm in chunks, instantiate it in a
// cluster, send encrypted commands, list and show contracts. Every
// encryption is done here, by the client package; the chain sees
// envelopes only. Receipts come from the workers of the contract's
// cluster (--worker, $PHALA_WORKER or the client config's workers).

func contractChainCmds() []*cobra.Command {
	return []*cobra.Command{contractUploadCmd(), contractInstantiateCmd(), contractCommandCmd(), contractReceiptCmd(), contractQueryCmd(), contractEventsCmd(), contractListCmd(), contractShowCmd(), contractParamsCmd()}
}

// sendFlags are what every contract transaction command takes.
type sendFlags struct {
	k    keyringFlags
	n    nodeFlag
	from string
}

func (f *sendFlags) register(cmd *cobra.Command) {
	f.k.register(cmd, true)
	f.n.register(cmd)
	cmd.Flags().StringVar(&f.from, "from", "", "name of the sending key")
	cmd.MarkFlagRequired("from")
}

func contractUploadCmd() *cobra.Command {
	var (
		f     sendFlags
		chunk int
	)
	cmd := &cobra.Command{
		Use:   "upload FILE.wasm --from KEY",
		Short: "Upload a built contract's code in chunks and print its code hash",
		Long: `Upload FILE.wasm (from phala contract build) in chunks of --chunk bytes,
one transaction each at consecutive nonces, then wait for the last one's
block. The code hash is the SHA-256 of the file, the one phala contract
build prints. Code already on chain is not sent again; an unfinished
upload of the same file by the same key resumes where the chain has it.
Each byte pays the upload fee (phala contract params) on top of the
transactions' fees. Progress goes to stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			code, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			key, err := loadKey(&f.k, f.from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := f.n.connectFor(time.Duration(len(code)/contractsapi.DefaultChunk+1) * 2 * time.Second)
			if err != nil {
				return err
			}
			defer cancel()
			start := time.Now()
			// On a terminal one line is rewritten; elsewhere (logs) a line
			// per tenth of the code.
			tty, lastTenth := term.IsTerminal(int(os.Stderr.Fd())), uint64(0)
			up, err := c.Upload(ctx, key, code, client.UploadOptions{ChunkSize: chunk, Progress: func(sent, total uint64) {
				switch tenth := sent * 10 / total; {
				case tty:
					fmt.Fprintf(os.Stderr, "\ruploading %s: %d/%d bytes (%d%%)", args[0], sent, total, sent*100/total)
					if sent == total {
						fmt.Fprintln(os.Stderr)
					}
				case tenth > lastTenth:
					lastTenth = tenth
					fmt.Fprintf(os.Stderr, "uploading %s: %d/%d bytes (%d%%)\n", args[0], sent, total, sent*100/total)
				}
				if sent == total {
					fmt.Fprintf(os.Stderr, "every chunk is in the mempool; waiting for the last one's block\n")
				}
			}})
			if err != nil {
				return err
			}
			out := struct {
				CodeHash string  `json:"code_hash"`
				Size     uint64  `json:"size"`
				Chunks   int     `json:"chunks"`
				Existed  bool    `json:"existed"`
				Resumed  uint64  `json:"resumed_at,omitempty"`
				Height   int64   `json:"height,omitempty"`
				Seconds  float64 `json:"seconds"`
			}{up.CodeHash.String(), up.Size, up.Chunks, up.Existed, up.Resumed, up.Last.Height, time.Since(start).Seconds()}
			return emit(out, func() string {
				if up.Existed {
					return fmt.Sprintf("code %s (%d bytes) is on chain already: nothing sent", out.CodeHash, out.Size)
				}
				return fmt.Sprintf("uploaded %d bytes in %d transactions (%.1fs), last in block %d\ncode hash %s\ninstantiate it: phala contract instantiate %s --from KEY",
					out.Size, out.Chunks, out.Seconds, out.Height, out.CodeHash, out.CodeHash)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&chunk, "chunk", contractsapi.DefaultChunk, "bytes per transaction (a transaction is at most the chain's max_tx_bytes)")
	return cmd
}

// connectFor is connect with a timeout of at least d.
func (n *nodeFlag) connectFor(d time.Duration) (*client.Client, context.Context, context.CancelFunc, error) {
	if n.timeout < d {
		n.timeout = d
	}
	return n.connect()
}

func contractInstantiateCmd() *cobra.Command {
	var (
		f                     sendFlags
		cluster, salt, initJS string
	)
	cmd := &cobra.Command{
		Use:   "instantiate CODE_HASH --from KEY [--cluster default] [--salt S] [--init JSON]",
		Short: "Create a contract from uploaded code; its init arguments are sealed to the cluster",
		Long: `Create a contract from uploaded code in a cluster. The init arguments
(JSON) are sealed on this machine to the cluster's public key, so only the
cluster's workers read them. The contract id is a hash of the sender, the
code hash, the cluster and the salt (a deployer makes several contracts of
one code with different salts). Instantiation asks the gatekeepers for the
contract's key; commands can be sent once it is on chain (phala contract
show says).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			code, err := contractsapi.ParseHash(args[0])
			if err != nil {
				return err
			}
			init, err := jsonArg(initJS, "--init")
			if err != nil {
				return err
			}
			key, err := loadKey(&f.k, f.from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := f.n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			inst, err := c.Instantiate(ctx, key, code, client.InstantiateOptions{Cluster: cluster, Salt: []byte(salt), InitArgs: init})
			if err != nil {
				return err
			}
			out := struct {
				Contract string `json:"contract"`
				Cluster  string `json:"cluster"`
				Account  string `json:"account"`
				Hash     string `json:"hash"`
				Height   int64  `json:"height"`
			}{inst.Contract.String(), inst.Cluster, contractsapi.ContractAccount(inst.Contract).String(), hex.EncodeToString(inst.Hash[:]), inst.Height}
			return emit(out, func() string {
				return fmt.Sprintf("contract %s in cluster %s (block %d)\naccount %s\nits key is asked of the gatekeepers: phala contract show %s",
					out.Contract, out.Cluster, out.Height, out.Account, out.Contract)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&cluster, "cluster", client.DefaultCluster, "cluster to run the contract")
	cmd.Flags().StringVar(&salt, "salt", "", "salt of the contract id (text)")
	cmd.Flags().StringVar(&initJS, "init", "", "init arguments (JSON)")
	return cmd
}

// jsonArg checks s is JSON (empty: none).
func jsonArg(s, what string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("%s is not JSON: %q", what, s)
	}
	return []byte(s), nil
}

func contractCommandCmd() *cobra.Command {
	var (
		f        sendFlags
		gas      uint64
		valueStr string
		w        receiptFlags
		noWait   bool
	)
	cmd := &cobra.Command{
		Use:   "command CONTRACT_ID METHOD [JSON] --from KEY [--gas N] [--value PHA] [--no-wait]",
		Short: "Send an encrypted command to a contract and wait for its receipt",
		Long: `Send METHOD with its arguments (JSON) to a contract. The command is
sealed on this machine to the contract's public key, bound to the contract
and the sender, with a fresh reply key inside; the chain orders it and
hands it to the workers of the contract's cluster. --gas reserves gas ×
the gas price from the sender (the unused part comes back when the
workers' results land); --value moves PHA to the contract's account.

The reply key is saved to --reply-key (default: ` + "`<phala home>/replies/<chain>-<seq>.json`" + `,
mode 0600): the receipt is sealed to it, and whoever holds the file can
read the receipt. Unless --no-wait, the command then waits for its
receipt, by its transaction's hash, from the cluster's workers (--worker,
else $PHALA_WORKER, else the client config's workers, else the endpoints
the cluster's workers published on chain), checks the worker's signature
and that it is assigned to the cluster, and prints the status, gas used,
return value and events; a command that failed (out of gas, reverted,
trap, undecryptable, sealed to a key generation the workers lack...)
exits non-zero with the status and the contract's error text. phala
contract receipt reads a receipt later.`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := contractsapi.ParseHash(args[0])
			if err != nil {
				return err
			}
			var argJSON []byte
			if len(args) == 3 {
				if argJSON, err = jsonArg(args[2], "the arguments"); err != nil {
					return err
				}
			}
			var value token.Amount
			if valueStr != "" {
				if value, err = token.ParsePHA(valueStr); err != nil {
					return fmt.Errorf("--value: %w", err)
				}
			}
			key, err := loadKey(&f.k, f.from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := f.n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			chainID, err := c.ChainID(ctx)
			if err != nil {
				return err
			}
			rec, err := c.Contract(ctx, id)
			if err != nil {
				return fmt.Errorf("contract %s: %w", id, err)
			}
			// Where the receipt comes from is settled before anything is sent.
			var workers []string
			if !noWait {
				if workers, err = receiptWorkers(ctx, c, w.workers, rec.Cluster); err != nil {
					return err
				}
				if len(workers) == 0 {
					return fmt.Errorf("%w; or give --no-wait and read it later with phala contract receipt", client.ErrNoWorkers)
				}
			}
			sent, err := c.Command(ctx, key, id, args[1], argJSON, client.CommandOptions{GasLimit: gas, Value: value})
			if err != nil {
				return err
			}
			replyFile, err := saveReplyKey(w.replyKey, chainID, id.String(), sent)
			if err != nil {
				return fmt.Errorf("command %d committed in block %d, but its reply key was not saved (its receipt cannot be read): %w", sent.Seq, sent.Height, err)
			}
			out := commandJSON{
				Contract: id.String(), Method: args[1], Seq: sent.Seq, Generation: sent.Generation, GasLimit: gas, Value: value.String(),
				Hash: hex.EncodeToString(sent.Hash[:]), Height: sent.Height, ReplyKeyFile: replyFile,
			}
			var rerr error
			if !noWait {
				start := time.Now()
				a, err := c.WaitReceiptTx(ctx, sent.Hash, sent.ReplyKey, client.ReceiptOptions{Workers: workers, Cluster: rec.Cluster})
				if err != nil {
					return fmt.Errorf("command %d committed in block %d (reply key in %s): %w", sent.Seq, sent.Height, replyFile, err)
				}
				out.Receipt = receiptOut(a, time.Since(start))
				rerr = a.Err()
			}
			if err := emit(out, func() string {
				s := fmt.Sprintf("command %d (%s) to %s committed in block %d\ngas limit %d, value %s\nreply key saved to %s",
					out.Seq, out.Method, out.Contract, out.Height, out.GasLimit, value.PHAString(), replyFile)
				if out.Receipt != nil {
					s += "\n" + out.Receipt.text()
				} else {
					s += fmt.Sprintf("\nread the receipt with: %s contract receipt %s --reply-key %s", selfCommand(), out.Hash, replyFile)
				}
				return s
			}); err != nil {
				return err
			}
			return rerr
		},
	}
	f.register(cmd)
	w.register(cmd)
	cmd.Flags().Uint64Var(&gas, "gas", client.DefaultCommandGas, "gas limit of the command")
	cmd.Flags().StringVar(&valueStr, "value", "", `PHA to send to the contract ("1.5", or base units "1500u")`)
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "do not wait for the receipt (read it later with phala contract receipt)")
	return cmd
}

type commandJSON struct {
	Contract     string       `json:"contract"`
	Method       string       `json:"method"`
	Seq          uint64       `json:"seq"`
	Generation   uint32       `json:"key_generation"`
	GasLimit     uint64       `json:"gas_limit"`
	Value        string       `json:"value"`
	Hash         string       `json:"hash"`
	Height       int64        `json:"height"`
	ReplyKeyFile string       `json:"reply_key_file"`
	Receipt      *receiptJSON `json:"receipt,omitempty"`
}

// receiptFlags are where receipts come from and where reply keys go.
type receiptFlags struct {
	workers  []string
	replyKey string
}

func (r *receiptFlags) register(cmd *cobra.Command) {
	r.registerWorkers(cmd)
	cmd.Flags().StringVar(&r.replyKey, "reply-key", "", "file of the command's reply key")
}

func (r *receiptFlags) registerWorkers(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&r.workers, "worker", nil, "public API URL of a worker of the contract's cluster (repeatable; default: $"+envWorker+", comma-separated, else the client config's workers)")
}

// saveReplyKey writes a command's reply key (mode 0600) to path, or to
// <phala home>/replies/<chain>-<seq>.json; the path written.
func saveReplyKey(path, chainID, contract string, sent client.CommandSent) (string, error) {
	saved, err := client.SaveReply(chainID, contract, sent)
	if err != nil {
		return "", err
	}
	if path == "" {
		path = defaultDir(filepath.Join("replies", fmt.Sprintf("%s-%d.json", chainID, sent.Seq)))
	}
	data, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	// O_EXCL: never overwrite another command's key.
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := fh.Write(append(data, '\n')); err != nil {
		fh.Close()
		return "", err
	}
	return path, fh.Close()
}

func loadReplyKey(path string) (client.SavedReply, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return client.SavedReply{}, err
	}
	var r client.SavedReply
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return client.SavedReply{}, fmt.Errorf("reply key %s: %w", path, err)
	}
	return r, nil
}

type eventJSON struct {
	Topic string          `json:"topic"`
	Data  json.RawMessage `json:"data,omitempty"`
	Hex   string          `json:"data_hex,omitempty"`
}

type receiptJSON struct {
	Seq        uint64          `json:"seq"`
	TxHash     string          `json:"tx_hash"`
	Generation uint32          `json:"key_generation"`
	Sealed     bool            `json:"sealed"`
	Height     int64           `json:"height"`
	Status     string          `json:"status"`
	GasUsed    uint64          `json:"gas_used"`
	Output     json.RawMessage `json:"output,omitempty"`      // when it is JSON
	OutputText string          `json:"output_text,omitempty"` // otherwise
	Events     []eventJSON     `json:"events,omitempty"`
	Payouts    []payoutJSON    `json:"payouts,omitempty"`
	Messages   []messageJSON   `json:"messages,omitempty"`
	Error      string          `json:"error,omitempty"`
	Worker     string          `json:"worker"`
	WorkerURL  string          `json:"worker_url"`
	AnsweredAt int64           `json:"answered_at"`
	Assigned   bool            `json:"worker_assigned"`
	WaitedMS   int64           `json:"waited_ms,omitempty"`
}

// payoutJSON is a payout the chain makes for a command.
type payoutJSON struct {
	Contract string `json:"contract"`
	To       string `json:"to"`
	Amount   string `json:"amount"` // base units
}

// messageJSON is how a message the command's contracts sent fared.
type messageJSON struct {
	From       string          `json:"from"`
	Contract   string          `json:"contract"`
	Depth      uint32          `json:"depth"`
	Status     string          `json:"status"`
	GasUsed    uint64          `json:"gas_used"`
	Output     json.RawMessage `json:"output,omitempty"`
	OutputText string          `json:"output_text,omitempty"`
	Events     []eventJSON     `json:"events,omitempty"`
}

func eventsOut(events []workerwire.ReceiptEvent) []eventJSON {
	var out []eventJSON
	for _, e := range events {
		ev := eventJSON{Topic: e.Topic}
		if json.Valid(e.Data) {
			ev.Data = e.Data
		} else {
			ev.Hex = hex.EncodeToString(e.Data)
		}
		out = append(out, ev)
	}
	return out
}

// output is a call's output as JSON when it is JSON, else as text.
func output(b []byte) (json.RawMessage, string) {
	if json.Valid(b) {
		return b, ""
	}
	return nil, string(b)
}

func receiptOut(a client.ReceiptAnswer, waited time.Duration) *receiptJSON {
	r := &receiptJSON{Seq: a.Seq, TxHash: a.TxHash.String(), Generation: a.Generation, Sealed: !workerwire.NeverOpened(a.Status), Height: a.Height, Status: a.Status.String(), GasUsed: a.GasUsed,
		Worker: hex.EncodeToString(a.Worker), WorkerURL: a.URL, AnsweredAt: a.AnsweredAt, Assigned: a.Assigned, WaitedMS: waited.Milliseconds()}
	r.Output, r.OutputText = output(a.Output)
	r.Events = eventsOut(a.Events)
	for _, p := range a.Payouts {
		r.Payouts = append(r.Payouts, payoutJSON{Contract: p.Contract.String(), To: p.To.String(), Amount: p.Amount.String()})
	}
	for _, m := range a.Messages {
		mj := messageJSON{From: m.From.String(), Contract: m.Contract.String(), Depth: m.Depth, Status: m.Status.String(), GasUsed: m.GasUsed,
			Events: eventsOut(m.Events)}
		mj.Output, mj.OutputText = output(m.Output)
		r.Messages = append(r.Messages, mj)
	}
	if err := a.Err(); err != nil {
		r.Error = err.Error()
	}
	return r
}

func (r *receiptJSON) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "receipt of command %d: %s, gas used %d (block %d; worker %s at %s, height %d)", r.Seq, r.Status, r.GasUsed, r.Height, short(r.Worker), r.WorkerURL, r.AnsweredAt)
	if r.Error != "" {
		fmt.Fprintf(&b, "\n%s", r.Error)
	}
	switch {
	case r.Output != nil:
		fmt.Fprintf(&b, "\nreturned %s", r.Output)
	case r.OutputText != "":
		fmt.Fprintf(&b, "\noutput %q", r.OutputText)
	}
	writeEvents(&b, "", r.Events)
	for _, p := range r.Payouts {
		amount, _ := token.ParseUnits(p.Amount)
		fmt.Fprintf(&b, "\npayout %s from contract %s to %s", amount.PHAString(), short(p.Contract), p.To)
	}
	for _, m := range r.Messages {
		fmt.Fprintf(&b, "\nmessage from %s to %s (depth %d): %s, gas used %d", short(m.From), short(m.Contract), m.Depth, m.Status, m.GasUsed)
		switch {
		case m.Output != nil:
			fmt.Fprintf(&b, ", returned %s", m.Output)
		case m.OutputText != "":
			fmt.Fprintf(&b, ", output %q", m.OutputText)
		}
		writeEvents(&b, "  ", m.Events)
	}
	return b.String()
}

func writeEvents(b *strings.Builder, indent string, events []eventJSON) {
	for _, e := range events {
		if e.Data != nil {
			fmt.Fprintf(b, "\n%sevent %s %s", indent, e.Topic, e.Data)
		} else {
			fmt.Fprintf(b, "\n%sevent %s %s", indent, e.Topic, e.Hex)
		}
	}
}

// receiptWorkers are the workers to ask for a receipt: the configured ones
// (flag, environment, client config), else those of the cluster that
// published an endpoint on chain.
func receiptWorkers(ctx context.Context, c *client.Client, flags []string, cluster string) ([]string, error) {
	workers, _, err := workerURLs(flags, os.Getenv)
	if err != nil || len(workers) > 0 || cluster == "" {
		return workers, err
	}
	return c.ClusterWorkerURLs(ctx, cluster)
}

// receiptTarget reads a receipt command's argument: a command number or
// a transaction hash (64 hex digits).
func receiptTarget(arg string) (workerwire.ReceiptRef, error) {
	if len(strings.TrimPrefix(arg, "0x")) == 64 {
		h, err := contractsapi.ParseHash(arg)
		if err != nil || h == (contractsapi.Hash{}) {
			return workerwire.ReceiptRef{}, fmt.Errorf("%q: want a command number or a transaction hash (64 hex digits)", arg)
		}
		return workerwire.ByTx(h), nil
	}
	seq, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return workerwire.ReceiptRef{}, fmt.Errorf("%q: want a command number or a transaction hash (64 hex digits)", arg)
	}
	return workerwire.BySeq(seq), nil
}

// findReplyKey is the saved reply key of the command ref names: the file
// given, else the one phala contract command saved in the default place
// (ok false: none; a receipt of a command that never opened reads
// without it).
func findReplyKey(path, chainID string, ref workerwire.ReceiptRef) (client.SavedReply, string, bool, error) {
	if path != "" {
		saved, err := loadReplyKey(path)
		if err != nil {
			return saved, path, false, err
		}
		if !ref.Names(saved.Seq, txHashOf(saved)) {
			return saved, path, false, fmt.Errorf("reply key %s is command %d's (transaction %s), not %s's", path, saved.Seq, saved.TxHash, ref)
		}
		return saved, path, true, nil
	}
	dir := defaultDir("replies")
	if ref.TxHash == (contractsapi.Hash{}) {
		path = filepath.Join(dir, fmt.Sprintf("%s-%d.json", chainID, ref.Seq))
		saved, err := loadReplyKey(path)
		return saved, path, err == nil, nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, chainID+"-*.json"))
	for _, f := range files {
		if saved, err := loadReplyKey(f); err == nil && saved.TxHash == ref.TxHash.String() {
			return saved, f, true, nil
		}
	}
	return client.SavedReply{}, "", false, nil
}

func txHashOf(s client.SavedReply) contractsapi.Hash {
	h, _ := contractsapi.ParseHash(s.TxHash)
	return h
}

func contractReceiptCmd() *cobra.Command {
	var (
		n    nodeFlag
		w    receiptFlags
		wait bool
	)
	cmd := &cobra.Command{
		Use:   "receipt SEQ|TX_HASH [--reply-key FILE] [--worker URL] [--wait]",
		Short: "Read a command's receipt from the workers, with its reply key",
		Long: `Ask the workers of the contract's cluster (--worker, else $PHALA_WORKER,
else the client config's workers, else the endpoints the cluster's workers
published on chain) for the receipt of a command, named by its number or
by its transaction's hash; check the worker's signature and its assignment
to the cluster, and open the receipt with the reply key phala contract
command saved (--reply-key, else the file it saved under the phala home).
A command that never opened (undecryptable, sealed to a key generation
the workers lack, malformed) has a plain receipt that reads without a
key. A worker that has not executed the command yet answers 404; --wait
asks again until --timeout. A command that failed exits non-zero with its
status, gas used and the contract's error text.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ref, err := receiptTarget(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			chainID, err := c.ChainID(ctx)
			if err != nil {
				return err
			}
			saved, keyFile, found, err := findReplyKey(w.replyKey, chainID, ref)
			if err != nil {
				return err
			}
			var reply hpke.PrivateKey
			if found {
				if saved.ChainID != chainID {
					return fmt.Errorf("reply key %s is for chain %q; the node is on %q", keyFile, saved.ChainID, chainID)
				}
				if reply, err = saved.PrivateKey(); err != nil {
					return err
				}
			}
			o := client.ReceiptOptions{}
			if o.Cluster, err = receiptCluster(ctx, c, saved, ref); err != nil && len(w.workers) == 0 {
				return err
			}
			if o.Workers, err = receiptWorkers(ctx, c, w.workers, o.Cluster); err != nil {
				return err
			}
			var a client.ReceiptAnswer
			if wait {
				a, err = waitReceipt(ctx, c, ref, reply, o)
			} else {
				a, err = firstReceipt(ctx, c, ref, reply, o)
			}
			if err != nil {
				if !found && errors.Is(err, workerwire.ErrOpen) {
					return fmt.Errorf("%w: give the file phala contract command saved with --reply-key", err)
				}
				return err
			}
			out := receiptOut(a, 0)
			if err := emit(out, out.text); err != nil {
				return err
			}
			return a.Err()
		},
	}
	n.register(cmd)
	w.register(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "ask again until the receipt comes or --timeout")
	return cmd
}

// receiptCluster is the cluster of the command's contract: from the saved
// reply key, else (by transaction) from the transaction on chain.
func receiptCluster(ctx context.Context, c *client.Client, saved client.SavedReply, ref workerwire.ReceiptRef) (string, error) {
	id, err := contractsapi.ParseHash(saved.Contract)
	if err != nil && ref.TxHash != (contractsapi.Hash{}) {
		id, err = c.CommandContract(ctx, ref.TxHash)
	}
	if err != nil {
		return "", fmt.Errorf("cannot tell the command's contract (give --reply-key or --worker): %w", err)
	}
	rec, err := c.Contract(ctx, id)
	if err != nil {
		return "", fmt.Errorf("contract %s: %w", id, err)
	}
	return rec.Cluster, nil
}

func waitReceipt(ctx context.Context, c *client.Client, ref workerwire.ReceiptRef, reply hpke.PrivateKey, o client.ReceiptOptions) (client.ReceiptAnswer, error) {
	if ref.TxHash != (contractsapi.Hash{}) {
		return c.WaitReceiptTx(ctx, ref.TxHash, reply, o)
	}
	return c.WaitReceipt(ctx, ref.Seq, reply, o)
}

func contractQueryCmd() *cobra.Command {
	var (
		k      keyringFlags
		n      nodeFlag
		w      receiptFlags
		from   string
		gas    uint64
		window int64
	)
	cmd := &cobra.Command{
		Use:   "query CONTRACT_ID METHOD [JSON] [--from KEY] [--worker URL]",
		Short: "Run an encrypted query of a contract on a worker of its cluster",
		Long: `Run METHOD (a query: it reads the contract's state, writes nothing) with
its arguments (JSON) on a worker of the contract's cluster (--worker, else
$PHALA_WORKER, else the client config's workers). The query is sealed on
this machine to the contract's public key with a nonce, an expiry height
(--window blocks ahead) and a fresh reply key; nothing goes on chain. With
--from the query is signed by that key and the contract sees its address
as the caller (the token's balance answers the caller's own); without,
the query is anonymous. The answer is sealed to the reply key and signed
by the worker, which is checked against the cluster's workers on chain.`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := contractsapi.ParseHash(args[0])
			if err != nil {
				return err
			}
			argJSON := []byte("{}")
			if len(args) == 3 {
				if argJSON, err = jsonArg(args[2], "the arguments"); err != nil {
					return err
				}
			}
			workers, _, err := workerURLs(w.workers, os.Getenv)
			if err != nil {
				return err
			}
			o := client.QueryOptions{Workers: workers, GasLimit: gas, Window: window}
			if from != "" {
				if o.Key, err = loadKey(&k, from); err != nil {
					return err
				}
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			start := time.Now()
			a, err := c.ContractQuery(ctx, id, args[1], argJSON, o)
			if err != nil {
				return err
			}
			out := struct {
				Contract   string          `json:"contract"`
				Method     string          `json:"method"`
				Status     string          `json:"status"`
				GasUsed    uint64          `json:"gas_used"`
				Output     json.RawMessage `json:"output,omitempty"`
				OutputText string          `json:"output_text,omitempty"`
				Error      string          `json:"error,omitempty"`
				Worker     string          `json:"worker"`
				WorkerURL  string          `json:"worker_url"`
				AnsweredAt int64           `json:"answered_at"`
				TookMS     float64         `json:"took_ms"`
			}{Contract: id.String(), Method: args[1], Status: a.Status.String(), GasUsed: a.GasUsed, Worker: hex.EncodeToString(a.Worker),
				WorkerURL: a.URL, AnsweredAt: a.AnsweredAt, TookMS: float64(time.Since(start).Microseconds()) / 1000}
			if json.Valid(a.Output) {
				out.Output = a.Output
			} else {
				out.OutputText = string(a.Output)
			}
			qerr := a.Err()
			if qerr != nil {
				out.Error = qerr.Error()
			}
			if err := emit(out, func() string {
				v := string(out.Output)
				if out.Output == nil {
					v = fmt.Sprintf("%q", out.OutputText)
				}
				return fmt.Sprintf("%s: %s, gas used %d\n%s\n(worker %s at %s, height %d)", out.Method, out.Status, out.GasUsed, v, short(out.Worker), out.WorkerURL, out.AnsweredAt)
			}); err != nil {
				return err
			}
			return qerr
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	w.registerWorkers(cmd)
	cmd.Flags().StringVar(&from, "from", "", "name of the key that signs the query (default: anonymous)")
	cmd.Flags().Uint64Var(&gas, "gas", 0, "gas limit of the query (0: the worker's default)")
	cmd.Flags().Int64Var(&window, "window", 20, "blocks the query stays valid")
	return cmd
}

// firstReceipt asks each worker once.
func firstReceipt(ctx context.Context, c *client.Client, ref workerwire.ReceiptRef, reply hpke.PrivateKey, o client.ReceiptOptions) (client.ReceiptAnswer, error) {
	if len(o.Workers) == 0 {
		return client.ReceiptAnswer{}, client.ErrNoWorkers
	}
	var errs []error
	for _, u := range o.Workers {
		one := o
		one.Workers = []string{u}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var a client.ReceiptAnswer
		var err error
		if ref.TxHash != (contractsapi.Hash{}) {
			a, err = c.FetchReceiptTx(wctx, u, ref.TxHash, reply)
		} else {
			a, err = c.FetchReceipt(wctx, u, ref.Seq, reply)
		}
		cancel()
		if err == nil {
			if o.Cluster != "" {
				// The cluster check: waitReceipt does it; one round only.
				return waitReceipt(ctx, c, ref, reply, one)
			}
			return a, nil
		}
		errs = append(errs, err)
	}
	return client.ReceiptAnswer{}, fmt.Errorf("no worker has the receipt of %s: %w", ref, errors.Join(errs...))
}

type contractJSON struct {
	ID         string          `json:"id"`
	CodeHash   string          `json:"code_hash"`
	Cluster    string          `json:"cluster"`
	Deployer   string          `json:"deployer"`
	Salt       string          `json:"salt"`
	Height     int64           `json:"height"`
	Account    string          `json:"account"`
	PublicKeys []publicKeyJSON `json:"public_keys,omitempty"`
	Balance    string          `json:"balance,omitempty"`
}

func contractOut(c contractsapi.Contract) contractJSON {
	return contractJSON{ID: c.ID.String(), CodeHash: c.CodeHash.String(), Cluster: c.Cluster, Deployer: c.Deployer.String(),
		Salt: hex.EncodeToString(c.Salt), Height: c.Height, Account: contractsapi.ContractAccount(c.ID).String()}
}

func (c contractJSON) line() string {
	return fmt.Sprintf("%s  code %s  cluster %s  deployer %s  block %d", c.ID, abbreviatedHex(c.CodeHash), c.Cluster, c.Deployer, c.Height)
}

func contractListCmd() *cobra.Command {
	var (
		n     nodeFlag
		after string
		limit uint32
	)
	cmd := &cobra.Command{
		Use: "list [--after ID] [--limit N]", Short: "Contracts on chain by id, a page at a time", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var from contractsapi.Hash
			if after != "" {
				var err error
				if from, err = contractsapi.ParseHash(after); err != nil {
					return err
				}
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			page, err := c.Contracts(ctx, from, limit)
			if err != nil {
				return err
			}
			out := struct {
				Contracts []contractJSON `json:"contracts"`
				More      bool           `json:"more"`
			}{Contracts: []contractJSON{}, More: page.More}
			lines := []string{}
			for _, ct := range page.Contracts {
				out.Contracts = append(out.Contracts, contractOut(ct))
				lines = append(lines, out.Contracts[len(out.Contracts)-1].line())
			}
			return emit(out, func() string {
				if len(lines) == 0 {
					return "no contracts"
				}
				if page.More {
					lines = append(lines, "more: phala contract list --after "+out.Contracts[len(out.Contracts)-1].ID)
				}
				return strings.Join(lines, "\n")
			})
		},
	}
	n.register(cmd)
	cmd.Flags().StringVar(&after, "after", "", "list contracts after this id")
	cmd.Flags().Uint32Var(&limit, "limit", 0, fmt.Sprintf("at most this many (0: %d)", contractsapi.MaxList))
	return cmd
}

func contractShowCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "show CONTRACT_ID", Short: "A contract: code, cluster, deployer, public keys and account balance", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := contractsapi.ParseHash(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			ct, err := c.Contract(ctx, id)
			if err != nil {
				return err
			}
			out := contractOut(ct)
			out.PublicKeys = []publicKeyJSON{}
			pubs, err := c.ContractKeys(ctx, ct.Cluster, id[:])
			if err != nil {
				return err
			}
			for _, p := range pubs {
				out.PublicKeys = append(out.PublicKeys, publicKeyJSON{Generation: p.Generation, PublicKey: hex.EncodeToString(p.PublicKey)})
			}
			acc, err := c.Account(ctx, contractsapi.ContractAccount(id))
			if err != nil {
				return err
			}
			out.Balance = acc.Balance.String()
			return emit(out, func() string {
				keys := publicKeysText(out.PublicKeys)
				if len(out.PublicKeys) == 0 {
					keys = "  none recorded yet: the gatekeepers derive it after instantiation"
				}
				salt := out.Salt
				if salt == "" {
					salt = "none"
				}
				return fmt.Sprintf("contract  %s\ncode      %s\ncluster   %s\ndeployer  %s\nsalt      %s\nblock     %d\naccount   %s (%s)\npublic keys\n%s",
					out.ID, out.CodeHash, out.Cluster, out.Deployer, salt, out.Height, out.Account, acc.Balance.PHAString(), keys)
			})
		},
	}
	n.register(cmd)
	return cmd
}

func contractParamsCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "params", Short: "The contracts module's rules: upload fee, code size limit, gas price and bounds, timeouts", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			p, err := c.ContractParams(ctx)
			if err != nil {
				return err
			}
			return emit(p, func() string {
				return fmt.Sprintf("upload fee       %s per byte\nmax code size    %d bytes\ngas price        %s per gas\nmax gas limit    %d\nmax sealed size  %d bytes\nresults timeout  %d blocks (then the escrow goes back to the senders)\nupload timeout   %d blocks (then an unfinished upload is dropped; its fees are not refunded)",
					p.UploadByteFee.PHAString(), p.MaxCodeSize, p.GasPrice.PHAString(), p.MaxGasLimit, p.MaxSealedSize, p.ResultsTimeout, p.UploadTimeout)
			})
		},
	}
	n.register(cmd)
	return cmd
}
