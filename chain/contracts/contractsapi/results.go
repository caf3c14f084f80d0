package contractsapi

import (
	"crypto/sha256"
	"fmt"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

// Workers' results: what the workers of a cluster report, once per block
// with commands of that cluster, and how the chain settles them.

// TopicResults is the egress topic of a worker's results for one block
// and one cluster (payload Results), signed like all egress by the
// worker's identity key. Every worker of the cluster sends its own copy:
// the topic is per sender, so copies are compared, not deduplicated.
const TopicResults = "contracts.results"

// Events of results handling.
const (
	// EventSettled: the first result for (height, cluster) settled its
	// commands' gas.
	EventSettled = "contracts.settled"
	// EventAgreed: a later result equal to the settled one.
	EventAgreed = "contracts.agreed"
	// EventDiscrepancy (contracts.discrepancy): a later result that
	// differs from the settled one; it names the worker. Slashing comes
	// with the economy.
	EventDiscrepancy = "contracts.discrepancy"
	// EventPayout: a settled payout moved value from a contract's account
	// to its recipient.
	EventPayout = "contracts.payout"
	// EventValueRefunded: a settled command that did not succeed had its
	// value sent back from the contract's account to its sender.
	EventValueRefunded = "contracts.value_refunded"
)

// Status is a command's outcome code in Results. Codes only get added.
type Status uint16

const (
	StatusOK            Status = 0 // the method returned; its writes are kept
	StatusUndecryptable Status = 1 // the envelope does not open with the contract's key of its generation
	StatusNoKey         Status = 2 // the worker holds no key of the command's generation
	StatusMalformed     Status = 3 // the plaintext is not a CommandPlain
	StatusNoContract    Status = 4 // the contract is not running on the worker (unknown, or its constructor failed)
	StatusOutOfGas      Status = 5 // gas ran out: gas used = gas limit
	StatusReverted      Status = 6 // the contract reverted (an unknown method too: the SDK reverts it)
	StatusTrap          Status = 7 // trap, exit (a Go panic) or stack overflow
	StatusVMError       Status = 8 // any other VM refusal (host limit, input too large, store)
	StatusOverdrawn     Status = 9 // the contract paid more than it holds
	// StatusNotInCluster: a message sent by a contract names no contract
	// of the sender's cluster (unknown, or of another cluster: a worker
	// cannot tell them apart, and all workers must answer alike).
	StatusNotInCluster Status = 10
	// StatusMessageLimit: a message sent by a contract beyond the depth
	// bound or the per-command message bound; it did not run.
	StatusMessageLimit Status = 11
)

var statusNames = [...]string{"ok", "undecryptable", "no key", "malformed", "no contract", "out of gas", "reverted", "trap", "vm error",
	"overdrawn", "not in cluster", "message limit"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status %d", uint16(s))
}

// CommandResult is one command's outcome: its status, the gas it used
// (the messages it sent included) and the payouts the chain must make for
// it, in the order the contracts made them (empty unless Status is ok).
// A command that is not ok has its value refunded by the chain.
type CommandResult struct {
	_       struct{} `cbor:",toarray"`
	Seq     uint64
	Status  Status
	GasUsed uint64
	Payouts []Payout
}

// Payout is a payment a contract made: Amount from Contract's account
// (ContractAccount) to To. Contract is the command's contract or one its
// messages reached, always of the results' cluster.
type Payout struct {
	_        struct{} `cbor:",toarray"`
	Contract Hash
	To       address.Address
	Amount   token.Amount
}

// Bounds of what one command may set off. Workers apply the message
// bounds alike (they are consensus among the workers of a cluster); the
// chain checks results against them.
const (
	// MaxCommandPayouts bounds one command's payouts (a worker's own
	// bound, payouts per call times the calls a command may make, stays
	// below it).
	MaxCommandPayouts = 1024
	// MaxCommandMessages bounds the messages a command's contracts may
	// send in all (sdk.Send); later ones do not run (StatusMessageLimit).
	MaxCommandMessages = 32
	// MaxMessageDepth bounds chains of messages: a command's contract
	// sends at depth 1, a contract running a message of depth d sends at
	// d+1, and a message deeper than this does not run.
	MaxMessageDepth = 4
)

// ContractRoot is a contract's state root after the block: the id of the
// root page of its state tree in the workers (worker/enclave/statetree),
// a hash keyed by a key derived from the contract key. Every worker of
// the cluster computes the same one; without the key it reveals nothing
// of the state (a small state cannot be guessed and checked against it).
// The chain only compares roots.
type ContractRoot struct {
	_        struct{} `cbor:",toarray"`
	Contract Hash
	Root     Hash
}

// Results is the payload of TopicResults: the outcome of every command
// of Cluster's contracts in block Height, in chain order (Seq ascending),
// and the state root of each contract those commands touched (the
// messages they sent included), by contract id ascending.
type Results struct {
	_        struct{} `cbor:",toarray"`
	Height   int64
	Cluster  string
	Commands []CommandResult
	Roots    []ContractRoot
}

// MaxResultCommands bounds one Results (a block holds far fewer
// commands: each is a transaction).
const MaxResultCommands = 1 << 16

// DecodeResults decodes a TopicResults payload strictly: canonical CBOR, a
// positive height, a cluster, at least one command, commands by Seq and
// roots by contract strictly ascending, known status codes, payouts only
// for commands that are ok, each of a positive amount, at most
// MaxCommandPayouts per command.
func DecodeResults(b []byte) (Results, error) {
	var r Results
	if err := decode(b, &r, "results"); err != nil {
		return r, err
	}
	switch {
	case r.Height <= 0:
		return r, ErrInvalid.Wrapf("results for height %d", r.Height)
	case r.Cluster == "":
		return r, ErrInvalid.Wrapf("results without a cluster")
	case len(r.Commands) == 0:
		return r, ErrInvalid.Wrapf("results without commands")
	case len(r.Commands) > MaxResultCommands || len(r.Roots) > len(r.Commands)*(1+MaxCommandMessages):
		return r, ErrInvalid.Wrapf("%d commands and %d roots", len(r.Commands), len(r.Roots))
	}
	for i, c := range r.Commands {
		if i > 0 && c.Seq <= r.Commands[i-1].Seq {
			return r, ErrInvalid.Wrapf("commands not in chain order at %d", i)
		}
		if int(c.Status) >= len(statusNames) {
			return r, ErrInvalid.Wrapf("command %d: unknown status %d", c.Seq, c.Status)
		}
		if err := checkPayouts(c); err != nil {
			return r, err
		}
	}
	for i := 1; i < len(r.Roots); i++ {
		if string(r.Roots[i].Contract[:]) <= string(r.Roots[i-1].Contract[:]) {
			return r, ErrInvalid.Wrapf("roots not sorted by contract at %d", i)
		}
	}
	return r, nil
}

func checkPayouts(c CommandResult) error {
	switch {
	case len(c.Payouts) > 0 && c.Status != StatusOK:
		return ErrInvalid.Wrapf("command %d: payouts of a command that is %s", c.Seq, c.Status)
	case len(c.Payouts) > MaxCommandPayouts:
		return ErrInvalid.Wrapf("command %d: %d payouts, at most %d", c.Seq, len(c.Payouts), MaxCommandPayouts)
	}
	for i, p := range c.Payouts {
		if p.Amount.IsZero() {
			return ErrInvalid.Wrapf("command %d: payout %d of nothing", c.Seq, i)
		}
	}
	return nil
}

// PendingCommand is what the chain keeps of a command until a result
// settles it: who gets the refund and how much was reserved at which
// price.
type PendingCommand struct {
	_        struct{} `cbor:",toarray"`
	Seq      uint64
	Contract Hash
	Cluster  string
	Sender   address.Address
	GasLimit uint64
	GasPrice token.Amount
	Reserved token.Amount
	Height   int64
	// Value is what the command moved to the contract's account: it goes
	// back to Sender unless the command's status is ok.
	Value token.Amount
}

// Settlement is the chain's record of a settled (height, cluster): the
// hash of the result that settled it, its worker, and the workers whose
// later results agreed or differed.
type Settlement struct {
	_           struct{} `cbor:",toarray"`
	Height      int64
	Cluster     string
	ResultsHash Hash
	SettledBy   []byte // identity key of the first worker
	Agreed      [][]byte
	Differed    [][]byte
}

// ResultsHash is what results are compared by: SHA-256 of the canonical
// payload.
func ResultsHash(payload []byte) Hash { return sha256.Sum256(payload) }

// Error kinds of results handling (codes continue types.go's).
var (
	// ErrNotWorker: results from a node that is not an active worker of
	// the cluster.
	ErrNotWorker = errs.Register(Name, 14, "results from a node that is not a worker of the cluster")
	// ErrResults: results that do not match the block's commands.
	ErrResults = errs.Register(Name, 15, "results do not match the block's commands")
	// ErrOverdraft: results whose payouts or refunds a contract's account
	// cannot cover. A worker never reports one (it tracks each contract's
	// balance and refuses an overdrawing payment); the chain refuses the
	// whole result rather than let an account go negative.
	ErrOverdraft = errs.Register(Name, 16, "results pay more than a contract's account holds")
)
