package statetree

import "sync"

// Snapshot reads a committed root. Its root stays readable (Sweep keeps
// its pages) until Release. Safe for concurrent use, and concurrent with
// the tree's writer.
type Snapshot struct {
	t    *Tree
	root PageID
	once sync.Once
}

// Snapshot pins the committed root for reading.
func (t *Tree) Snapshot() (*Snapshot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.committed.IsZero() {
		return nil, ErrUsage.Wrapf("snapshot of %s before its first commit", t.name)
	}
	t.pins[t.committed]++
	return &Snapshot{t: t, root: t.committed}, nil
}

// Release lets Sweep collect the snapshot's pages once no version needs
// them. Reads after Release may fail.
func (s *Snapshot) Release() {
	s.once.Do(func() {
		s.t.mu.Lock()
		defer s.t.mu.Unlock()
		if s.t.pins[s.root]--; s.t.pins[s.root] <= 0 {
			delete(s.t.pins, s.root)
		}
	})
}

// Root is the snapshot's root.
func (s *Snapshot) Root() PageID { return s.root }

// Get implements vm.Store.
func (s *Snapshot) Get(key []byte) ([]byte, bool, error) {
	if err := s.t.Err(); err != nil {
		return nil, false, err
	}
	return s.t.get(kid{id: s.root}, key)
}

// Next implements vm.Store.
func (s *Snapshot) Next(prefix, after []byte) ([]byte, []byte, bool, error) {
	if err := s.t.Err(); err != nil {
		return nil, nil, false, err
	}
	return s.t.next(kid{id: s.root}, prefix, after)
}

// Set implements vm.Store: refused.
func (s *Snapshot) Set(key, _ []byte) error {
	return ErrReadOnly.Wrapf("set %x on a snapshot of %s", key, s.t.name)
}

// Delete implements vm.Store: refused.
func (s *Snapshot) Delete(key []byte) error {
	return ErrReadOnly.Wrapf("delete %x on a snapshot of %s", key, s.t.name)
}
