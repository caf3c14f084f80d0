package contracts_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
)

// TestQueriesSeeWholeBlocks: goroutines query bob's balance while blocks
// of transfers to bob apply, the way the worker runtime runs them: blocks
// under the write side of a read-write lock, queries under the read side,
// concurrently with each other (several query reactors per instance). Every
// block moves perBlock tokens to bob in perBlock commands, so an answer
// that is not a multiple of perBlock saw a block half applied. Run with
// -race it also checks the module's and the VM's shared state.
func TestQueriesSeeWholeBlocks(t *testing.T) {
	w := newWorld(t)
	m := newModule(w)
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000000}`)...)
	bob := address.Module("bob")
	const perBlock, blocks, readers = 5, 6, 8
	var (
		lock    sync.RWMutex
		height  atomic.Int64
		done    atomic.Bool
		answers atomic.Int64
		wg      sync.WaitGroup
		// answered hears of answers, so that every block waits for one:
		// on a loaded machine the blocks could otherwise all apply before
		// the first query's reactor has started.
		answered = make(chan struct{}, 1)
	)
	height.Store(1)
	for range readers {
		wg.Go(func() {
			for !done.Load() {
				lock.RLock()
				st, res := m.RunQuery(w.ctx(height.Load(), registryapi.RoleWorker), w.id, bob[:], "balance", []byte(`{}`), 100_000_000)
				lock.RUnlock()
				if st != contractsapi.StatusOK {
					t.Errorf("query: %v %s", st, res.Output)
					return
				}
				n, err := strconv.Atoi(string(res.Output))
				if err != nil || n%perBlock != 0 {
					t.Errorf("bob's balance %q is not a whole number of blocks of %d", res.Output, perBlock)
					return
				}
				answers.Add(1)
				select {
				case answered <- struct{}{}:
				default:
				}
			}
		})
	}
	seq := uint64(0)
	for h := int64(2); h < 2+blocks; h++ {
		msgs := make([]mq.Message, perBlock)
		for i := range msgs {
			seq++
			msgs[i] = w.command(seq, w.deployer, "transfer", transfer(bob, 1), 100_000_000)
		}
		select {
		case <-answered:
		case <-time.After(time.Minute):
			t.Fatalf("no query answered within a minute before block %d", h)
		}
		lock.Lock()
		w.block(m, h, registryapi.RoleWorker, msgs...)
		height.Store(h)
		lock.Unlock()
	}
	done.Store(true)
	wg.Wait()
	st, res := m.RunQuery(w.ctx(height.Load(), registryapi.RoleWorker), w.id, bob[:], "balance", []byte(`{}`), 100_000_000)
	if st != contractsapi.StatusOK || string(res.Output) != strconv.Itoa(perBlock*blocks) {
		t.Fatalf("bob's balance after %d blocks: %v %s", blocks, st, res.Output)
	}
	if answers.Load() == 0 {
		t.Fatal("no query answered while the blocks applied")
	}
	t.Logf("%d answers during %d blocks", answers.Load(), blocks)
}
