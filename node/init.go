package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"
)

// InitOptions describe a single-validator network (devnet).
type InitOptions struct {
	ChainID    string          // default "phala-devnet"
	Moniker    string          // default "node0"
	AppState   json.RawMessage // goes into genesis.json "app_state"
	Ports      Ports           // both required; see FreePort
	ListenHost string          // default "127.0.0.1"
	Timing     Timing          // zero value = DevTiming()
}

// Validator power used for every genesis validator; equal power keeps any
// 2/3+ subset of a testnet able to commit.
const validatorPower = 10

// InitSingle lays out a home for a one-validator network. It refuses to touch
// an existing home so a devnet's chain is never overwritten by accident.
func InitSingle(home Home, opts InitOptions) error {
	if home.Exists() {
		return fmt.Errorf("node home %s already exists (remove it to start a new chain)", home.Dir())
	}
	if err := checkPorts(opts.Ports); err != nil {
		return err
	}
	opts = opts.withDefaults()
	keys, err := initKeys(home)
	if err != nil {
		return err
	}
	gen := newGenesis(opts.ChainID, []types.GenesisValidator{keys.validator(opts.Moniker)}, opts.AppState)
	// Genesis first, config.toml last: Exists only turns true once complete.
	if err := writeGenesis(home, gen); err != nil {
		return err
	}
	return writeConfig(home, newConfig(home, nodeConfig{
		Moniker: opts.Moniker, P2PHost: opts.ListenHost, RPCHost: opts.ListenHost, Ports: opts.Ports, Timing: opts.Timing,
	}))
}

func (o InitOptions) withDefaults() InitOptions {
	if o.ChainID == "" {
		o.ChainID = "phala-devnet"
	}
	if o.Moniker == "" {
		o.Moniker = "node0"
	}
	if o.ListenHost == "" {
		o.ListenHost = defaultListenHost
	}
	return o
}

func checkPorts(p Ports) error {
	switch {
	case p.P2P <= 0 || p.P2P > 65535 || p.RPC <= 0 || p.RPC > 65535:
		return fmt.Errorf("ports must be in 1..65535 (got p2p=%d rpc=%d; use FreePort for tests)", p.P2P, p.RPC)
	case p.P2P == p.RPC:
		return fmt.Errorf("p2p and rpc ports must differ (both %d)", p.P2P)
	}
	return nil
}

// nodeKeys are the identities of one node.
type nodeKeys struct {
	nodeID p2p.ID
	valKey crypto.PubKey
}

func (k nodeKeys) validator(name string) types.GenesisValidator {
	return types.GenesisValidator{Address: k.valKey.Address(), PubKey: k.valKey, Power: validatorPower, Name: name}
}

// initKeys creates the directories and keys, keeping any key already present
// (a half-finished earlier init must not change a node's identity).
func initKeys(home Home) (nodeKeys, error) {
	if err := home.ensureDirs(); err != nil {
		return nodeKeys{}, err
	}
	c := cfg.DefaultConfig().SetRoot(home.Dir()) // for the key file paths
	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return nodeKeys{}, fmt.Errorf("node key %s: %w", c.NodeKeyFile(), err)
	}
	pv, err := loadPrivValidator(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	if err != nil {
		return nodeKeys{}, err
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return nodeKeys{}, fmt.Errorf("validator key %s: %w", c.PrivValidatorKeyFile(), err)
	}
	return nodeKeys{nodeID: nk.ID(), valKey: pub}, nil
}

// loadPrivValidator loads or creates the ed25519 validator key. CometBFT's own
// loader calls os.Exit on a bad file, so we check the files parse first and
// create a fresh sign state only when the state file is missing.
func loadPrivValidator(keyFile, stateFile string) (*privval.FilePV, error) {
	if isFile(keyFile) {
		if err := checkPVFiles(keyFile, stateFile); err != nil {
			return nil, err
		}
	}
	var pv *privval.FilePV
	err := catch("validator key "+keyFile, func() (err error) {
		switch {
		case !isFile(keyFile):
			pv, err = privval.GenFilePV(keyFile, stateFile, func() (crypto.PrivKey, error) { return ed25519.GenPrivKey(), nil })
			if err == nil {
				pv.Save()
			}
		case !isFile(stateFile):
			pv = privval.LoadFilePVEmptyState(keyFile, stateFile)
			pv.LastSignState.Save()
		default:
			pv = privval.LoadFilePV(keyFile, stateFile)
		}
		return err
	})
	return pv, err
}

func checkPVFiles(keyFile, stateFile string) error {
	var key privval.FilePVKey
	if err := readCmtJSON(keyFile, &key); err != nil {
		return fmt.Errorf("validator key %s is invalid: %w", keyFile, err)
	}
	if key.PrivKey == nil {
		return fmt.Errorf("validator key %s is invalid: no priv_key", keyFile)
	}
	if !isFile(stateFile) {
		return nil
	}
	var st privval.FilePVLastSignState
	if err := readCmtJSON(stateFile, &st); err != nil {
		return fmt.Errorf("validator state %s is invalid: %w", stateFile, err)
	}
	return nil
}

func newGenesis(chainID string, vals []types.GenesisValidator, appState json.RawMessage) *types.GenesisDoc {
	params := types.DefaultConsensusParams()
	params.Block.MaxBytes = genesisBlockBytes
	params.Block.MaxGas = genesisBlockGas
	return &types.GenesisDoc{
		ChainID:         chainID,
		GenesisTime:     cmttime.Now(),
		ConsensusParams: params,
		Validators:      vals,
		AppState:        appState,
	}
}

func writeGenesis(home Home, gen *types.GenesisDoc) error {
	if len(gen.AppState) > 0 && !json.Valid(gen.AppState) {
		return errors.New("app state is not valid JSON")
	}
	if err := gen.ValidateAndComplete(); err != nil {
		return fmt.Errorf("invalid genesis: %w", err)
	}
	if err := gen.SaveAs(home.GenesisFile()); err != nil {
		return fmt.Errorf("writing %s: %w", home.GenesisFile(), err)
	}
	return nil
}

func readCmtJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return cmtjson.Unmarshal(b, v)
}
