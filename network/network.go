// Package network composes the chain application with CometBFT: it lays out
// a development network (keys, genesis) or a multi-validator testnet, and
// runs one validator (application + consensus) from its home directory.
package network

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/snapshot"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/token"
)

// DevnetChainID names the development network.
const DevnetChainID = "phala-devnet"

// DevPassphrase encrypts the development keys. They are derived from public
// seeds (keyring.DevSeed) and worth nothing; the passphrase only exists so
// the files have the same format as real keys.
const DevPassphrase = "devnet"

// DevAccount is one well-known funded account of a development network.
type DevAccount struct {
	Name    string          `json:"name"`
	Address address.Address `json:"address"`
	Purpose string          `json:"purpose"`
}

// DevAccounts are alice, bob and carol, holding the 21% of the supply that
// genesis gives to private placement, developer incentives and team, then
// dave, erin and frank, who operate the devnet's gatekeeper and its two
// workers (their relays pay for registrations and egress from these
// accounts, so the three people's accounts stay the users' own).
func DevAccounts() []DevAccount {
	purposes := []string{bankapi.PurposePrivatePlacement, bankapi.PurposeDeveloperIncentives, bankapi.PurposeTeam, PurposeTEEOperator, PurposeTEEOperator, PurposeTEEOperator}
	out := make([]DevAccount, 0, len(purposes))
	for i, name := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		out = append(out, DevAccount{Name: name, Address: devAddress(name), Purpose: purposes[i]})
	}
	return out
}

// PurposeTEEOperator labels the development accounts that operate TEE
// nodes; their PHA comes out of the team allocation.
const PurposeTEEOperator = "tee_operator"

// operatorFunds is what each TEE operator account gets at genesis.
var operatorFunds = token.PHA(1_000_000)

func devAddress(name string) address.Address {
	key := ed25519.NewKeyFromSeed(keyring.DevSeed(name))
	return address.FromPublicKey(key.Public().(ed25519.PublicKey))
}

// KeyringDir is where a network home keeps its development keys.
func KeyringDir(home node.Home) string { return filepath.Join(string(home), "keys") }

// DevAppState is the application genesis of a development network: alice
// and dave may run gatekeepers. A development network (production unset)
// accepts sim quotes, makes alice its unsafe dev admin (DEVELOPMENT ONLY:
// she makes privileged changes without a proposal) and votes on
// govapi.DevnetParams' short clock; a production one has no admin, so
// every privileged change needs a proposal under gov's default params.
func DevAppState(production bool) (json.RawMessage, error) {
	dev := DevAccounts()
	b, err := withOperators(bank.DefaultGenesis(dev[0].Address, dev[1].Address, dev[2].Address), dev[3:])
	if err != nil {
		return nil, err
	}
	r := registryapi.DefaultGenesis(!production, registryapi.Grant{Operator: dev[0].Address}, registryapi.Grant{Operator: dev[3].Address})
	g, err := app.DefaultGenesis(b, r)
	if err != nil {
		return nil, err
	}
	if !production {
		admin := dev[0].Address
		if g.Modules[govapi.Name], err = json.Marshal(govapi.Genesis{Params: govapi.DevnetParams(), UnsafeDevAdmin: &admin}); err != nil {
			return nil, err
		}
	}
	// A development network's economy runs on a clock one can watch:
	// settlements every few seconds, a cool-down of a minute.
	if g.Modules[computeapi.Name], err = json.Marshal(computeapi.Genesis{Params: computeapi.DevnetParams()}); err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

// withOperators funds the TEE operator accounts out of the team
// allocation, keeping the 21% split's sum.
func withOperators(g bank.Genesis, operators []DevAccount) (bank.Genesis, error) {
	for i, a := range g.Allocations {
		if a.Purpose != bankapi.PurposeTeam {
			continue
		}
		for _, op := range operators {
			rest, err := g.Allocations[i].Amount.Sub(operatorFunds)
			if err != nil {
				return g, fmt.Errorf("team allocation cannot fund %s: %w", op.Name, err)
			}
			g.Allocations[i].Amount = rest
		}
		for _, op := range operators {
			g.Allocations = append(g.Allocations, bank.Allocation{Purpose: bankapi.PurposeTeam, Address: op.Address, Name: op.Name, Amount: operatorFunds})
		}
		return g, nil
	}
	return g, fmt.Errorf("no team allocation to fund the TEE operators from")
}

// writeDevKeys stores the development keys in dir under DevPassphrase.
func writeDevKeys(dir string) error {
	kr := keyring.Open(dir)
	for _, a := range DevAccounts() {
		if _, err := kr.ImportSeed(a.Name, keyring.DevSeed(a.Name), DevPassphrase); err != nil && !errors.Is(err, keyring.ErrExists) {
			return fmt.Errorf("write development key %s: %w", a.Name, err)
		}
	}
	return nil
}

// DevnetOptions lay out a development network.
type DevnetOptions struct {
	Ports  node.Ports
	Timing node.Timing
}

// InitDevnet creates a single-validator home with funded development keys.
func InitDevnet(home node.Home, o DevnetOptions) error {
	appState, err := DevAppState(false)
	if err != nil {
		return err
	}
	if err := node.InitSingle(home, node.InitOptions{ChainID: DevnetChainID, AppState: appState, Ports: o.Ports, Timing: o.Timing}); err != nil {
		return err
	}
	return writeDevKeys(KeyringDir(home))
}

// TestnetOptions lay out an N-validator network.
type TestnetOptions struct {
	Validators int
	OutDir     string
	Hosts      []string
	BasePort   int
	ChainID    string
	Timing     node.Timing
	// Production refuses sim quotes: only real SGX/TDX nodes can register.
	Production bool
	// PublicRPC and TxIndex: see node.Testnet. RPC stays on loopback and
	// public RPC gets no tx index unless asked for.
	PublicRPC bool
	TxIndex   string
	// Snapshots: how often validators snapshot for state sync (zero:
	// node.DefaultAppConfig's).
	Snapshots node.SnapshotConfig
}

// WriteTestnet writes every validator's home and the development keys
// (OutDir/keys) that hold the non-pool allocations.
func WriteTestnet(o TestnetOptions) ([]node.Home, error) {
	homes, err := node.WriteTestnet(node.Testnet{
		Validators: o.Validators, OutDir: o.OutDir, Hosts: o.Hosts, BasePort: o.BasePort,
		ChainID: o.ChainID, Timing: o.Timing, PublicRPC: o.PublicRPC, TxIndex: o.TxIndex, Snapshots: o.Snapshots,
		AppState: func([]types.GenesisValidator) (json.RawMessage, error) { return testnetAppState(o.Production) },
	})
	if err != nil {
		return nil, err
	}
	return homes, writeDevKeys(filepath.Join(o.OutDir, "keys"))
}

// testnetAppState is DevAppState, and for a production network the
// check that it names no unsafe dev admin.
func testnetAppState(production bool) (json.RawMessage, error) {
	raw, err := DevAppState(production)
	if err != nil || !production {
		return raw, err
	}
	return raw, CheckProductionAppState(raw)
}

// CheckProductionAppState refuses a production genesis that names an
// unsafe dev admin: that key would make every privileged change without
// a vote.
func CheckProductionAppState(appState json.RawMessage) error {
	admin, err := UnsafeDevAdminOf(appState)
	if err != nil {
		return err
	}
	if admin != nil {
		return fmt.Errorf("a production genesis names an unsafe dev admin (%s): privileged changes would need no proposal; remove gov.unsafe_dev_admin", admin)
	}
	return nil
}

// UnsafeDevAdminOf returns the unsafe dev admin an application genesis
// names in its gov section (nil: none).
func UnsafeDevAdminOf(appState json.RawMessage) (*address.Address, error) {
	var sections struct {
		Gov *govapi.Genesis `json:"gov"`
	}
	if err := json.Unmarshal(appState, &sections); err != nil {
		return nil, fmt.Errorf("genesis app state: %w", err)
	}
	if sections.Gov == nil {
		return nil, nil
	}
	return sections.Gov.UnsafeDevAdmin, nil
}

// UnsafeDevAdminWarning is the line a node logs at start when its genesis
// names an unsafe dev admin.
const UnsafeDevAdminWarning = "privileged changes need no proposal; development only"

// Validator is a running application with its consensus node.
type Validator struct {
	App  *app.App
	Node *node.Node
}

// Start opens the application store of home and starts CometBFT over it.
func Start(ctx context.Context, home node.Home, log *slog.Logger, opts ...node.StartOption) (*Validator, error) {
	chainID, appState, err := node.LoadGenesisAppState(home)
	if err != nil {
		return nil, err
	}
	warnUnsafeDevAdmin(log, appState)
	a, err := app.New(chainID, home.AppDataDir(), log)
	if err != nil {
		return nil, err
	}
	if err := enableSnapshots(a, home); err != nil {
		a.Close()
		return nil, err
	}
	n, err := node.Start(ctx, home, a, opts...)
	if err != nil {
		a.Close()
		return nil, err
	}
	return &Validator{App: a, Node: n}, nil
}

// warnUnsafeDevAdmin says loudly that the chain has an unsafe dev admin
// (and louder if its attestation policy refuses sim quotes, as a
// production chain's does): whoever holds that key changes policy,
// gatekeepers, keys and params without a vote.
func warnUnsafeDevAdmin(log *slog.Logger, appState json.RawMessage) {
	admin, err := UnsafeDevAdminOf(appState)
	if err != nil || admin == nil {
		return
	}
	log.Warn("unsafe dev admin "+admin.String()+": "+UnsafeDevAdminWarning, "admin", admin.String())
	var sections struct {
		Registry *registryapi.Genesis `json:"registry"`
	}
	if json.Unmarshal(appState, &sections) == nil && sections.Registry != nil && !sections.Registry.Policy.AllowSim {
		log.Error("THIS GENESIS REFUSES SIM QUOTES LIKE A PRODUCTION CHAIN BUT NAMES AN UNSAFE DEV ADMIN: " +
			"one key makes every privileged change; a production chain must leave gov.unsafe_dev_admin empty")
	}
}

// Stop stops consensus first, then closes the store it was writing.
func (v *Validator) Stop() error {
	return errors.Join(v.Node.Stop(), v.App.Close())
}

// enableSnapshots makes the application take snapshots as the home's
// app.toml says, serve them, and accept one while its store is empty
// (a node started with state sync).
func enableSnapshots(a *app.App, home node.Home) error {
	c, err := node.LoadAppConfig(home)
	if err != nil {
		return err
	}
	return a.EnableSnapshots(snapshot.Options{Dir: home.SnapshotDir(), Interval: c.Snapshots.Interval, Keep: c.Snapshots.KeepRecent})
}
