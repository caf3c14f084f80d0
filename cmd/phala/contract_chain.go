package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/token"
)

// Contracts on chain: upload a built .wasm in chunks, instantiate it in a
// cluster, send encrypted commands, list and show contracts. Every
// encryption is done here, by the client package; the chain sees
// envelopes only. Receipts and queries to workers come with the workers'
// side of contracts.

func contractChainCmds() []*cobra.Command {
	return []*cobra.Command{contractUploadCmd(), contractInstantiateCmd(), contractCommandCmd(), contractListCmd(), contractShowCmd(), contractParamsCmd()}
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
	)
	cmd := &cobra.Command{
		Use:   "command CONTRACT_ID METHOD [JSON] --from KEY [--gas N] [--value PHA]",
		Short: "Send an encrypted command to a contract",
		Long: `Send METHOD with its arguments (JSON) to a contract. The command is
sealed on this machine to the contract's public key, bound to the contract
and the sender, with a fresh reply key inside; the chain orders it and
hands it to the workers of the contract's cluster. --gas reserves gas ×
the gas price from the sender (the unused part comes back when the
workers' results land); --value moves PHA to the contract's account.
Receipts (sealed to the reply key) are not served yet.`,
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
			sent, err := c.Command(ctx, key, id, args[1], argJSON, client.CommandOptions{GasLimit: gas, Value: value})
			if err != nil {
				return err
			}
			out := struct {
				Contract   string `json:"contract"`
				Method     string `json:"method"`
				Seq        uint64 `json:"seq"`
				Generation uint32 `json:"key_generation"`
				GasLimit   uint64 `json:"gas_limit"`
				Value      string `json:"value"`
				Hash       string `json:"hash"`
				Height     int64  `json:"height"`
			}{id.String(), args[1], sent.Seq, sent.Generation, gas, value.String(), hex.EncodeToString(sent.Hash[:]), sent.Height}
			return emit(out, func() string {
				return fmt.Sprintf("command %d (%s) to %s committed in block %d\ngas limit %d, value %s\nno receipt yet: workers do not execute commands in this version",
					out.Seq, out.Method, out.Contract, out.Height, out.GasLimit, value.PHAString())
			})
		},
	}
	f.register(cmd)
	cmd.Flags().Uint64Var(&gas, "gas", client.DefaultCommandGas, "gas limit of the command")
	cmd.Flags().StringVar(&valueStr, "value", "", `PHA to send to the contract ("1.5", or base units "1500u")`)
	return cmd
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
		Use: "params", Short: "The contracts module's rules: upload fee, code size limit, gas price and bounds", Args: cobra.NoArgs,
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
				return fmt.Sprintf("upload fee       %s per byte\nmax code size    %d bytes\ngas price        %s per gas\nmax gas limit    %d\nmax sealed size  %d bytes",
					p.UploadByteFee.PHAString(), p.MaxCodeSize, p.GasPrice.PHAString(), p.MaxGasLimit, p.MaxSealedSize)
			})
		},
	}
	n.register(cmd)
	return cmd
}
