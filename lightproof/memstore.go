package lightproof

import (
	"slices"
	"sync"

	"github.com/cometbft/cometbft/light/store"
	"github.com/cometbft/cometbft/types"
)

// memStore is the light client's trusted store, in memory: a proven read
// starts from the trust root each time, so nothing need outlive it, and
// CometBFT's own store would link a database (cometbft-db) for nothing.
type memStore struct {
	mu      sync.Mutex
	blocks  map[int64]*types.LightBlock
	heights []int64 // sorted
}

var _ store.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{blocks: map[int64]*types.LightBlock{}} }

func (s *memStore) SaveLightBlock(lb *types.LightBlock) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := lb.Height
	if _, ok := s.blocks[h]; !ok {
		i, _ := slices.BinarySearch(s.heights, h)
		s.heights = slices.Insert(s.heights, i, h)
	}
	s.blocks[h] = lb
	return nil
}

func (s *memStore) DeleteLightBlock(height int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delete(height)
	return nil
}

func (s *memStore) delete(height int64) {
	if _, ok := s.blocks[height]; !ok {
		return
	}
	delete(s.blocks, height)
	i, _ := slices.BinarySearch(s.heights, height)
	s.heights = slices.Delete(s.heights, i, i+1)
}

func (s *memStore) LightBlock(height int64) (*types.LightBlock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, ok := s.blocks[height]
	if !ok {
		return nil, store.ErrLightBlockNotFound
	}
	return lb, nil
}

func (s *memStore) LastLightBlockHeight() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heights) == 0 {
		return -1, nil
	}
	return s.heights[len(s.heights)-1], nil
}

func (s *memStore) FirstLightBlockHeight() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heights) == 0 {
		return -1, nil
	}
	return s.heights[0], nil
}

// LightBlockBefore is the newest block below height.
func (s *memStore) LightBlockBefore(height int64) (*types.LightBlock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearch(s.heights, height)
	if i == 0 {
		return nil, store.ErrLightBlockNotFound
	}
	return s.blocks[s.heights[i-1]], nil
}

// Prune keeps the newest size blocks.
func (s *memStore) Prune(size uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.heights) > int(size) {
		s.delete(s.heights[0])
	}
	return nil
}

func (s *memStore) Size() uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint16(min(len(s.heights), 1<<16-1))
}
