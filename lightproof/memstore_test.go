package lightproof

import (
	"errors"
	"testing"

	"github.com/cometbft/cometbft/light/store"
	"github.com/cometbft/cometbft/types"
)

func lb(h int64) *types.LightBlock {
	return &types.LightBlock{SignedHeader: &types.SignedHeader{Header: &types.Header{Height: h}}}
}

func TestMemStore(t *testing.T) {
	s := newMemStore()
	if first, _ := s.FirstLightBlockHeight(); first != -1 {
		t.Fatalf("empty store first height %d", first)
	}
	for _, h := range []int64{5, 1, 9, 5} {
		if err := s.SaveLightBlock(lb(h)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		get  func() (*types.LightBlock, error)
		want int64 // 0: not found
	}{
		{"at 5", func() (*types.LightBlock, error) { return s.LightBlock(5) }, 5},
		{"at 2", func() (*types.LightBlock, error) { return s.LightBlock(2) }, 0},
		{"before 9", func() (*types.LightBlock, error) { return s.LightBlockBefore(9) }, 5},
		{"before 6", func() (*types.LightBlock, error) { return s.LightBlockBefore(6) }, 5},
		{"before 1", func() (*types.LightBlock, error) { return s.LightBlockBefore(1) }, 0},
	}
	for _, tc := range tests {
		got, err := tc.get()
		switch {
		case tc.want == 0 && !errors.Is(err, store.ErrLightBlockNotFound):
			t.Errorf("%s: %v, want not found", tc.name, err)
		case tc.want != 0 && (err != nil || got.Height != tc.want):
			t.Errorf("%s: %v %v, want %d", tc.name, got, err, tc.want)
		}
	}
	if s.Size() != 3 {
		t.Fatalf("size %d, want 3", s.Size())
	}
	if err := s.Prune(2); err != nil {
		t.Fatal(err)
	}
	first, _ := s.FirstLightBlockHeight()
	last, _ := s.LastLightBlockHeight()
	if first != 5 || last != 9 || s.Size() != 2 {
		t.Fatalf("after pruning to 2: first %d last %d size %d", first, last, s.Size())
	}
	if err := s.DeleteLightBlock(9); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastLightBlockHeight(); last != 5 {
		t.Fatalf("after deleting 9: last %d", last)
	}
}

func TestTrustRootCheck(t *testing.T) {
	hash := make([]byte, 32)
	tests := []struct {
		name string
		root TrustRoot
		want error
	}{
		{"none", TrustRoot{}, ErrNoTrustRoot},
		{"no height", TrustRoot{Hash: hash}, ErrTrustRoot},
		{"short hash", TrustRoot{Height: 3, Hash: hash[:20]}, ErrTrustRoot},
		{"negative period", TrustRoot{Height: 3, Hash: hash, Period: -1}, ErrTrustRoot},
		{"good", TrustRoot{Height: 3, Hash: hash}, nil},
	}
	for _, tc := range tests {
		if err := tc.root.Check(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
