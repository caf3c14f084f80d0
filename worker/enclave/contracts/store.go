package contracts

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/statetree"
)

// Contract storage at rest: each contract's storage is a statetree.Tree
// (an authenticated, encrypted B+-tree of pages) in its own page store,
// under the state keys of its contract key of its generation. The
// checkpoint section keeps the roots; the pages stay outside the enclave,
// and a shared, bounded cache keeps the hot ones decoded.

// Pages is where contracts' state pages live: one page store per
// contract, named by the contract id in hex. The runtime hands in a
// directory of files (package pagefile), as it hands in the VM, so the
// module does no I/O of its own.
type Pages interface {
	Store(name string) statetree.PageStore
}

var _ vm.Store = (*statetree.Tree)(nil)

func storeName(id contractsapi.Hash) string { return hex.EncodeToString(id[:]) }

// store is the contract's state tree, opened on first use.
func (m *Module) store(ctx *module.Context, lc *liveContract) (*statetree.Tree, error) {
	if lc.store != nil {
		return lc.store, nil
	}
	ct, ok := contractKey(ctx, lc.c.Cluster, lc.c.Generation, lc.c.ID)
	if !ok {
		return nil, errNoKey
	}
	sk, err := ct.StateKeys(ctx.ChainID)
	if err != nil {
		return nil, err
	}
	name := storeName(lc.c.ID)
	t, err := statetree.Open(statetree.Config{Pages: m.pages.Store(name), Keys: statetree.Keys(sk), Cache: m.cache, Name: name}, statetree.PageID(lc.c.Root))
	if err != nil {
		return nil, err
	}
	lc.store = t
	return t, nil
}

// root is the contract's committed state root.
func (lc *liveContract) root() contractsapi.Hash {
	if lc.store != nil {
		return contractsapi.Hash(lc.store.Root())
	}
	return lc.c.Root
}

// commitStores writes the block's changes of every contract (one put per
// changed page) and returns the contracts whose state failed: tampered or
// missing pages, or a store that cannot write. Their results must not be
// sent: they would be computed over state this worker could not check.
func (m *Module) commitStores(ctx *module.Context) map[contractsapi.Hash]error {
	var failed map[contractsapi.Hash]error
	for id, lc := range m.live {
		if lc.store == nil {
			continue
		}
		if _, err := lc.store.Commit(); err != nil {
			if failed == nil {
				failed = map[contractsapi.Hash]error{}
			}
			failed[id] = err
			ctx.Log.Error("contracts: a contract's state failed; its cluster's results are withheld (pages changed outside the enclave, or the disk fails: stop the worker, remove its contract-state directory and restart to rebuild it from the chain)",
				"contract", id, "err", err)
		}
	}
	return failed
}

// Checkpointed tells the module that the runtime sealed a checkpoint of
// its state as it is now. The runtime keeps that checkpoint and the one
// before, so pages that neither their roots, the current ones, nor an
// open snapshot reach are garbage: each contract whose root moved since
// the last checkpoint sweeps its store. (Pages of the versions between
// two checkpoints went already, at the commit that replaced them.) It
// returns how many pages went.
func (m *Module) Checkpointed() (int, error) {
	swept := 0
	var errs []error
	for id, lc := range m.live {
		now := lc.root()
		if lc.store != nil && !lc.store.Dirty() {
			lc.store.Checkpointed()
			if now != lc.kept && lc.store.Err() == nil {
				n, err := lc.store.Sweep(statetree.PageID(lc.kept))
				swept += n
				if err != nil {
					errs = append(errs, fmt.Errorf("contract %s: %w", id, err))
				}
			}
		}
		lc.kept = now
	}
	return swept, errors.Join(errs...)
}

// checkRoot makes sure a restored contract's root page is in its store,
// so a checkpoint whose pages are gone (a deleted or older state
// directory) is refused at start and the runtime falls back to an older
// one or to genesis, replaying the chain to rebuild the pages. Whether
// the page authenticates is checked on its first read, with the keys.
func (m *Module) checkRoot(c Contract) error {
	if c.Root == (contractsapi.Hash{}) {
		return nil
	}
	if _, err := m.pages.Store(storeName(c.ID)).Get(statetree.PageID(c.Root)); err != nil {
		return fmt.Errorf("contract %s: state root page: %w", c.ID, err)
	}
	return nil
}
