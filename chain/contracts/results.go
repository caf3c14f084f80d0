package contracts

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

var (
	_ module.EgressHandler   = Module{}
	_ module.PerSenderEgress = Module{}
)

// EgressTopics implements module.EgressHandler: workers' results.
func (Module) EgressTopics() []string { return []string{contractsapi.TopicResults} }

// PerSenderTopic implements module.PerSenderEgress: every worker's copy of
// a block's results is compared with the first, so none is deduplicated.
func (Module) PerSenderTopic(topic string) bool { return topic == contractsapi.TopicResults }

// HandleEgress implements module.EgressHandler. The mq module has checked
// the signature, the sequence and that the sender is active; here the
// sender must be a worker assigned to the results' cluster, and the
// results must cover exactly the cluster's commands of that block, in
// order, each within its gas limit.
//
// The first such result for (height, cluster) settles: each command's
// unused gas (limit − used) × its price goes back from the escrow to the
// sender, the used part to the treasury (rewards to workers come with the
// economy); a command that did not succeed has its value sent back from
// the contract's account, one that did has its payouts made (settlement).
// Later results for the same (height, cluster) are compared by
// hash: equal ones are recorded as agreeing, different ones as differing
// and announced by a discrepancy event naming the worker. A worker's
// second result for a settled pair is refused; nothing settles twice.
func (m Module) HandleEgress(ctx *module.Context, from module.EgressSender, topic string, payload []byte) error {
	if topic != contractsapi.TopicResults {
		return contractsapi.ErrInvalid.Wrapf("contracts owns no egress topic %q", topic)
	}
	r, err := contractsapi.DecodeResults(payload)
	if err != nil {
		return err
	}
	if err := requireClusterWorker(ctx, from, r.Cluster); err != nil {
		return err
	}
	if r.Height >= ctx.Height {
		return contractsapi.ErrResults.Wrapf("results for height %d at height %d", r.Height, ctx.Height)
	}
	hash := contractsapi.ResultsHash(payload)
	skey := contractsapi.SettlementKeyOf(r.Height, r.Cluster)
	var set contractsapi.Settlement
	settled, err := getOptional(ctx.Store, skey, &set, "settlement")
	if err != nil {
		return err
	}
	if settled {
		differs, err := compareResults(ctx, from.IdentityKey, skey, set, r, hash)
		if err != nil || !differs || m.Discrepancy == nil {
			return err
		}
		return m.Discrepancy(ctx, from.IdentityKey)
	}
	seqs, err := blockCommands(ctx.Store, r.Height, r.Cluster)
	if err != nil {
		return err
	}
	if len(seqs) != len(r.Commands) {
		return contractsapi.ErrResults.Wrapf("%d results, cluster %q had %d commands at height %d", len(r.Commands), r.Cluster, len(seqs), r.Height)
	}
	pending := make([]contractsapi.PendingCommand, len(seqs))
	for i, seq := range seqs {
		c := r.Commands[i]
		if c.Seq != seq {
			return contractsapi.ErrResults.Wrapf("result %d is for command %d, want %d", i, c.Seq, seq)
		}
		p, ok, err := getPending(ctx.Store, seq)
		if err != nil {
			return err
		}
		if !ok {
			return contractsapi.ErrCorruptState.Wrapf("command %d is in block %d's list but not pending", seq, r.Height)
		}
		if c.GasUsed > p.GasLimit {
			return contractsapi.ErrResults.Wrapf("command %d used %d gas, its limit is %d", seq, c.GasUsed, p.GasLimit)
		}
		pending[i] = p
	}
	st := settlement{ctx: ctx, cluster: r.Cluster, clusterOf: map[contractsapi.Hash]string{}}
	for i, p := range pending {
		if err := st.command(p, r.Commands[i]); err != nil {
			return err
		}
	}
	ctx.Store.Delete(contractsapi.BlockCommandsKeyOf(r.Height, r.Cluster))
	set = contractsapi.Settlement{Height: r.Height, Cluster: r.Cluster, ResultsHash: hash, SettledBy: from.IdentityKey}
	ctx.Store.Set(skey, codec.MustMarshal(set))
	ctx.Emit(contractsapi.EventSettled, module.A("height", uint64(r.Height)), module.A("cluster", r.Cluster),
		module.A("worker", fmt.Sprintf("%x", []byte(from.IdentityKey))), module.A("commands", uint64(len(pending))),
		module.A("used", st.used), module.A("refunded", st.refunded), module.A("payouts", st.payouts), module.A("paid", st.paid),
		module.A("value_refunded", st.valueRefunded), module.A("results", hash))
	return nil
}

// settlement carries out the first result of a (height, cluster): per
// command, in chain order, its gas, then its value back to the sender if
// it did not succeed, or else its payouts. In that order every account
// stays at or above what the workers computed for it, so a payout the
// account cannot cover means the result is wrong: the whole result is
// refused (ErrOverdraft) and nothing of it happens.
type settlement struct {
	ctx       *module.Context
	cluster   string
	clusterOf map[contractsapi.Hash]string // contracts looked up so far

	used, refunded, paid, valueRefunded token.Amount
	payouts                             uint64
}

func (st *settlement) command(p contractsapi.PendingCommand, c contractsapi.CommandResult) error {
	s := st.ctx.Store
	used, refund, err := split(p, c.GasUsed)
	if err != nil {
		return err
	}
	if err := pay(s, bankapi.Treasury, used); err != nil {
		return err
	}
	if err := pay(s, p.Sender, refund); err != nil {
		return err
	}
	s.Delete(contractsapi.PendingCommandKeyOf(p.Seq))
	st.used, _ = st.used.Add(used)
	st.refunded, _ = st.refunded.Add(refund)
	if c.Status != contractsapi.StatusOK {
		return st.refundValue(p)
	}
	for _, po := range c.Payouts {
		if err := st.payout(p.Seq, po); err != nil {
			return err
		}
	}
	return nil
}

// refundValue sends a command's value back: it did not succeed, so the
// contract never had it.
func (st *settlement) refundValue(p contractsapi.PendingCommand) error {
	if p.Value.IsZero() {
		return nil
	}
	if err := move(st.ctx.Store, contractsapi.ContractAccount(p.Contract), p.Sender, p.Value); err != nil {
		return fmt.Errorf("command %d's value back to %s: %w", p.Seq, p.Sender, err)
	}
	st.valueRefunded, _ = st.valueRefunded.Add(p.Value)
	st.ctx.Emit(contractsapi.EventValueRefunded, module.A("seq", p.Seq), module.A("contract", p.Contract),
		module.A("sender", p.Sender), module.A("amount", p.Value))
	return nil
}

// payout pays from a contract of the results' cluster: a worker speaks
// only for the contracts of its own cluster.
func (st *settlement) payout(seq uint64, po contractsapi.Payout) error {
	cluster, ok := st.clusterOf[po.Contract]
	if !ok {
		c, found, err := getContract(st.ctx.Store, po.Contract)
		if err != nil {
			return err
		}
		if found {
			cluster = c.Cluster
		}
		st.clusterOf[po.Contract] = cluster
	}
	if cluster != st.cluster {
		return contractsapi.ErrResults.Wrapf("command %d pays from contract %s, not of cluster %q", seq, po.Contract, st.cluster)
	}
	if err := move(st.ctx.Store, contractsapi.ContractAccount(po.Contract), po.To, po.Amount); err != nil {
		return fmt.Errorf("command %d's payout to %s: %w", seq, po.To, err)
	}
	st.payouts++
	st.paid, _ = st.paid.Add(po.Amount)
	st.ctx.Emit(contractsapi.EventPayout, module.A("seq", seq), module.A("contract", po.Contract),
		module.A("to", po.To), module.A("amount", po.Amount))
	return nil
}

// move pays out of a contract's account. The recipient's account is
// opened if it is new: the bank's minimum balance keeps strangers from
// creating dust accounts, but a contract's payment was decided (and paid
// for in gas) by the contract, and refusing it would leave the contract's
// books and the chain's apart.
func move(s *state.Overlay, from, to address.Address, amount token.Amount) error {
	if err := bank.OpenModuleAccount(s, to); err != nil {
		return err
	}
	err := bank.Move(s, from, to, amount)
	if errors.Is(err, bankapi.ErrInsufficientFunds) {
		return contractsapi.ErrOverdraft.Wrapf("%v", err)
	}
	return err
}

// split is what a command's used gas costs and what goes back.
func split(p contractsapi.PendingCommand, gasUsed uint64) (used, refund token.Amount, err error) {
	used, err = p.GasPrice.MulUint64(gasUsed)
	if err == nil {
		refund, err = p.Reserved.Sub(used)
	}
	if err != nil {
		return used, refund, contractsapi.ErrCorruptState.Wrapf("command %d: %v", p.Seq, err)
	}
	return used, refund, nil
}

func pay(s *state.Overlay, to address.Address, amount token.Amount) error {
	if amount.IsZero() {
		return nil
	}
	return bank.Move(s, contractsapi.Escrow, to, amount)
}

// compareResults records a later result for a settled (height, cluster):
// agreeing or differing, once per worker.
func compareResults(ctx *module.Context, worker ed25519.PublicKey, key []byte, set contractsapi.Settlement, r contractsapi.Results, hash contractsapi.Hash) (differs bool, err error) {
	for _, list := range [][][]byte{{set.SettledBy}, set.Agreed, set.Differed} {
		for _, w := range list {
			if bytes.Equal(w, worker) {
				return false, contractsapi.ErrResults.Wrapf("worker %x already reported height %d of cluster %q", []byte(worker), r.Height, r.Cluster)
			}
		}
	}
	id := fmt.Sprintf("%x", []byte(worker))
	if hash == set.ResultsHash {
		set.Agreed = append(set.Agreed, worker)
		ctx.Emit(contractsapi.EventAgreed, module.A("height", uint64(r.Height)), module.A("cluster", r.Cluster), module.A("worker", id))
	} else {
		set.Differed = append(set.Differed, worker)
		ctx.Emit(contractsapi.EventDiscrepancy, module.A("height", uint64(r.Height)), module.A("cluster", r.Cluster), module.A("worker", id),
			module.A("settled_by", fmt.Sprintf("%x", set.SettledBy)), module.A("results", hash), module.A("settled", set.ResultsHash))
	}
	ctx.Store.Set(key, codec.MustMarshal(set))
	return hash != set.ResultsHash, nil
}

// requireClusterWorker: results come from a worker assigned to the
// cluster (the mq module has checked it is active).
func requireClusterWorker(ctx *module.Context, from module.EgressSender, cluster string) error {
	if from.Role != uint8(registryapi.RoleWorker) {
		return contractsapi.ErrNotWorker.Wrapf("%x is a %s", []byte(from.IdentityKey), registryapi.Role(from.Role))
	}
	ok, err := keys.InCluster(ctx.Store, cluster, from.IdentityKey)
	if err != nil {
		return err
	}
	if !ok {
		return contractsapi.ErrNotWorker.Wrapf("%x is not assigned to cluster %q", []byte(from.IdentityKey), cluster)
	}
	return nil
}

func getPending(r state.Reader, seq uint64) (contractsapi.PendingCommand, bool, error) {
	var p contractsapi.PendingCommand
	ok, err := getOptional(r, contractsapi.PendingCommandKeyOf(seq), &p, "pending command")
	return p, ok, err
}

// blockCommands are the seqs of a cluster's commands in a block, in order.
func blockCommands(r state.Reader, height int64, cluster string) ([]uint64, error) {
	raw, err := r.Get(contractsapi.BlockCommandsKeyOf(height, cluster))
	if err != nil {
		return nil, err
	}
	if len(raw)%8 != 0 {
		return nil, contractsapi.ErrCorruptState.Wrapf("block command list of %d bytes", len(raw))
	}
	out := make([]uint64, 0, len(raw)/8)
	for i := 0; i < len(raw); i += 8 {
		out = append(out, binary.BigEndian.Uint64(raw[i:]))
	}
	return out, nil
}

// recordPending keeps what settlement needs of a command and adds it to
// its block's list for its cluster.
func recordPending(s *state.Overlay, p contractsapi.PendingCommand) error {
	s.Set(contractsapi.PendingCommandKeyOf(p.Seq), codec.MustMarshal(p))
	key := contractsapi.BlockCommandsKeyOf(p.Height, p.Cluster)
	raw, err := s.Get(key)
	if err != nil {
		return err
	}
	s.Set(key, binary.BigEndian.AppendUint64(append([]byte{}, raw...), p.Seq))
	return nil
}
