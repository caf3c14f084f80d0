package main

// The client configuration tells client commands which node, chain and
// keyring to use, so that a devnet started on another port does not make
// the user repeat --node on every command. The devnet and `phala testnet`
// write it; flags and the environment override it, as in Cosmos' and
// Ethereum's CLIs. Precedence, highest first: flag, environment, config
// file, built-in default.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
)

// Environment variables that override the config file.
const (
	envClientConfig = "PHALA_CLIENT_CONFIG"
	envNode         = "PHALA_NODE"
	envKeyring      = "PHALA_KEYRING"
)

// Values of written_by: who wrote a config file, and so who may rewrite it.
const (
	writtenByDevnet  = "phala devnet"
	writtenByTestnet = "phala testnet"
)

// configBacked annotates the flags (--node, --keyring) whose value, when
// the user does not give it, comes from the environment or the config file.
const configBacked = "phala/client-config"

// Where a setting's value came from, as `phala config show` prints it.
const (
	sourceDefault = "default"
	sourceFile    = "config file"
)

// clientConfigFlag is the global --config flag.
var clientConfigFlag string

// clientConfig is the file's content. Every field is optional; unknown
// fields are an error, so a misspelt key does not silently fall back to a
// default.
type clientConfig struct {
	Node    string `json:"node,omitempty"`
	ChainID string `json:"chain_id,omitempty"`
	Keyring string `json:"keyring,omitempty"`
	// WrittenBy names the command that wrote the file. A devnet rewrites a
	// file it wrote (its port may have changed) and leaves any other alone:
	// remove or change this field to keep settings of your own.
	WrittenBy string `json:"written_by,omitempty"`
	// Trust is the root proven queries (--prove) start from.
	Trust *trustConfig `json:"trust,omitempty"`
	// Witnesses are nodes proven queries cross-check headers with.
	Witnesses []string `json:"witnesses,omitempty"`
	// Workers are workers' public API URLs, asked for receipts (phala
	// contract command, phala contract receipt): not on chain yet. The
	// devnet writes its workers' here at every start.
	Workers []string `json:"workers,omitempty"`
}

// trustConfig is a trust root as the file holds it.
type trustConfig struct {
	Height int64  `json:"height"`
	Hash   string `json:"hash"`             // the header's hash, hex
	Period string `json:"period,omitempty"` // a Go duration; "" is lightproof.DefaultTrustPeriod
	// Source says how the root was chosen, for `phala config show`: given
	// by the user, or taken once from a node (trust on first use).
	Source string `json:"source,omitempty"`
}

func defaultClientConfigPath() string { return defaultDir("client.json") }

// parseClientConfig decodes one JSON object strictly: no unknown fields,
// nothing after it, a node that is an http(s) URL.
func parseClientConfig(data []byte) (clientConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c clientConfig
	if err := dec.Decode(&c); err != nil {
		return clientConfig{}, err
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return clientConfig{}, errors.New("data after the JSON object")
	}
	if c.Node != "" {
		if err := checkNodeURL(c.Node); err != nil {
			return clientConfig{}, fmt.Errorf("node: %w", err)
		}
	}
	if strings.TrimSpace(c.ChainID) != c.ChainID {
		return clientConfig{}, fmt.Errorf("chain_id %q has surrounding spaces", c.ChainID)
	}
	if c.Trust != nil {
		if _, err := c.Trust.root(); err != nil {
			return clientConfig{}, fmt.Errorf("trust: %w", err)
		}
	}
	for _, w := range c.Witnesses {
		if err := checkNodeURL(w); err != nil {
			return clientConfig{}, fmt.Errorf("witnesses: %w", err)
		}
	}
	for _, w := range c.Workers {
		if err := checkNodeURL(w); err != nil {
			return clientConfig{}, fmt.Errorf("workers: %w", err)
		}
	}
	return c, nil
}

// envWorker names workers' public API URLs (comma-separated) for receipts.
const envWorker = "PHALA_WORKER"

// workerURLs are the workers to ask for receipts: the --worker flags,
// else $PHALA_WORKER (comma-separated), else the client config's workers.
func workerURLs(flags []string, getenv func(string) string) ([]string, string, error) {
	pick := func(list []string, source string) ([]string, string, error) {
		var out []string
		for _, u := range list {
			if u = strings.TrimSpace(u); u == "" {
				continue
			}
			if err := checkNodeURL(u); err != nil {
				return nil, source, fmt.Errorf("worker from %s: %w", source, err)
			}
			out = append(out, strings.TrimRight(u, "/"))
		}
		return out, source, nil
	}
	if len(flags) > 0 {
		return pick(flags, "flag --worker")
	}
	if v := getenv(envWorker); v != "" {
		return pick(strings.Split(v, ","), "env "+envWorker)
	}
	path := configPathSetting(givenFlags(nil), getenv).Value
	c, _, err := loadClientConfig(path)
	if err != nil {
		return nil, sourceFile, err
	}
	return pick(c.Workers, path)
}

// recordDevnetWorkers adds the devnet's workers' public API URLs to the
// client config the devnet wrote (recordDevnetClientConfig), so receipts
// are found without flags; a file someone else wrote, or one for another
// chain, is left alone.
func recordDevnetWorkers(chainID string, urls []string) {
	path := configPathSetting(givenFlags(nil), os.Getenv).Value
	c, found, err := loadClientConfig(path)
	if err != nil || !found || c.WrittenBy != writtenByDevnet || c.ChainID != chainID {
		return
	}
	c.Workers = urls
	if err := saveClientConfig(path, c); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
	}
}

func checkNodeURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not an http(s)://HOST:PORT address: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s)://HOST:PORT address", s)
	}
	return nil
}

// loadClientConfig reads the file at path; a missing file is no error
// (found is false). A relative keyring is taken from the file's directory,
// so a testnet directory can be moved with its config.
func loadClientConfig(path string) (c clientConfig, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return clientConfig{}, false, nil
	}
	if err != nil {
		return clientConfig{}, false, fmt.Errorf("client config: %w", err)
	}
	if c, err = parseClientConfig(data); err != nil {
		return clientConfig{}, true, fmt.Errorf("client config %s: %w", path, err)
	}
	if c.Keyring != "" && !filepath.IsAbs(c.Keyring) {
		c.Keyring = filepath.Join(filepath.Dir(path), c.Keyring)
	}
	return c, true, nil
}

// saveClientConfig writes c to path through a temporary file and a rename,
// so a client reading it meanwhile sees the old file or the new, whole.
func saveClientConfig(path string, c clientConfig) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".client-*.json")
	if err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("client config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	return nil
}

// setting is one effective value and where it came from.
type setting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// clientSettings are the effective client settings.
type clientSettings struct {
	ConfigFile  setting `json:"config_file"`
	ConfigFound bool    `json:"config_found"`
	Node        setting `json:"node"`
	ChainID     setting `json:"chain_id"`
	Keyring     setting `json:"keyring"`
	// Trust and Witnesses are the file's (flags and environment apply per
	// query command: --trust-height, --trust-hash, --witness).
	Trust     *trustConfig `json:"trust"`
	Witnesses []string     `json:"witnesses"`
}

// firstSet is the first candidate with a value: candidates go from the
// highest precedence to the lowest. An empty flag or variable counts as
// unset, as in most CLIs.
func firstSet(candidates ...setting) setting {
	for _, c := range candidates {
		if c.Value != "" {
			return c
		}
	}
	return setting{Source: sourceDefault}
}

func fromFlag(flags map[string]string, name string) setting {
	return setting{Value: flags[name], Source: "flag --" + name}
}

func fromEnv(getenv func(string) string, name string) setting {
	return setting{Value: getenv(name), Source: "env " + name}
}

// configPathSetting is the config file to read: --config, else
// PHALA_CLIENT_CONFIG, else ~/.phala/client.json ($PHALA_HOME/client.json).
func configPathSetting(flags map[string]string, getenv func(string) string) setting {
	return firstSet(fromFlag(flags, "config"), fromEnv(getenv, envClientConfig), setting{Value: defaultClientConfigPath(), Source: sourceDefault})
}

// resolveClientSettings applies the precedence to the flags the user gave
// (name to value, only those given) and the environment.
func resolveClientSettings(flags map[string]string, getenv func(string) string) (clientSettings, error) {
	s := clientSettings{ConfigFile: configPathSetting(flags, getenv)}
	file, found, err := loadClientConfig(s.ConfigFile.Value)
	if err != nil {
		return s, err
	}
	s.ConfigFound = found
	s.Node = firstSet(fromFlag(flags, "node"), fromEnv(getenv, envNode),
		setting{Value: file.Node, Source: sourceFile}, setting{Value: client.DefaultNode, Source: sourceDefault})
	s.Keyring = firstSet(fromFlag(flags, "keyring"), fromEnv(getenv, envKeyring),
		setting{Value: file.Keyring, Source: sourceFile}, setting{Value: defaultDir("keys"), Source: sourceDefault})
	s.ChainID = firstSet(setting{Value: file.ChainID, Source: sourceFile})
	s.Trust, s.Witnesses = file.Trust, file.Witnesses
	if s.Witnesses == nil {
		s.Witnesses = []string{}
	}
	return s, nil
}

// expectedChainID is the chain the node must be on, or "" to accept any.
// The file's chain_id describes the file's node: a node given by flag or
// environment is the user's deliberate choice and is not held to it.
func (s clientSettings) expectedChainID() string {
	if s.Node.Source != sourceFile {
		return ""
	}
	return s.ChainID.Value
}

func (s clientSettings) valueOf(flag string) (string, bool) {
	switch flag {
	case "node":
		return s.Node.Value, true
	case "keyring":
		return s.Keyring.Value, true
	}
	return "", false
}

// markConfigBacked lets applyClientConfig fill the flag when it is not given.
func markConfigBacked(cmd *cobra.Command, flag string) {
	if err := cmd.Flags().SetAnnotation(flag, configBacked, []string{"true"}); err != nil {
		panic(err) // a programming error: the flag was not registered
	}
}

// givenFlags are the client flags the user gave on the command line: the
// global --config, and cmd's --node and --keyring (none when cmd is nil).
func givenFlags(cmd *cobra.Command) map[string]string {
	given := map[string]string{}
	if clientConfigFlag != "" {
		given["config"] = clientConfigFlag
	}
	if cmd == nil {
		return given
	}
	for _, name := range []string{"node", "keyring"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			given[name] = f.Value.String()
		}
	}
	return given
}

// chainExpectation is what applyClientConfig found for the command being
// run: nodeFlag.connect checks the node against it.
type chainExpectation struct {
	chainID    string // "" accepts any chain
	configFile string
}

var expectedChain chainExpectation

// applyClientConfig fills the command's config-backed flags the user did
// not give. Commands without such flags do not read the file at all, so a
// broken config cannot stop `phala devnet` or `phala keys`.
func applyClientConfig(cmd *cobra.Command) error {
	expectedChain = chainExpectation{}
	var missing []string
	for _, name := range []string{"node", "keyring"} {
		f := cmd.Flags().Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		if _, ok := f.Annotations[configBacked]; ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	s, err := resolveClientSettings(givenFlags(cmd), os.Getenv)
	if err != nil {
		return err
	}
	for _, name := range missing {
		if v, ok := s.valueOf(name); ok {
			if err := cmd.Flags().Set(name, v); err != nil {
				return fmt.Errorf("--%s from %s: %w", name, s.ConfigFile.Value, err)
			}
		}
	}
	expectedChain = chainExpectation{chainID: s.expectedChainID(), configFile: s.ConfigFile.Value}
	return nil
}

// verify refuses a node on another chain than the config file names: the
// file points at a devnet that has since been recreated or replaced.
func (e chainExpectation) verify(ctx context.Context, c *client.Client) error {
	if e.chainID == "" {
		return nil
	}
	got, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	if got != e.chainID {
		return fmt.Errorf("node %s is on chain %q but the client config %s names chain %q: the config is stale or points at another network; "+
			"restart the devnet to rewrite it, edit the file, or give --node (or %s) explicitly", c.URL(), got, e.configFile, e.chainID, envNode)
	}
	return nil
}
