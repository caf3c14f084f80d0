package statetree

import "slices"

// Sweep deletes every stored page that neither the committed root, nor
// the roots in retain (those of the checkpoints still on disk), nor an
// open snapshot reaches, and returns how many it deleted. It needs a
// committed tree. A retained root that cannot be read stops the sweep
// before anything is deleted (and does not stop the tree).
func (t *Tree) Sweep(retain ...PageID) (int, error) {
	if err := t.Err(); err != nil {
		return 0, err
	}
	if t.root.n != nil {
		return 0, ErrUsage.Wrapf("sweep of %s with uncommitted changes", t.name)
	}
	roots := append(slices.Clone(retain), t.root.id)
	t.mu.Lock()
	for r := range t.pins {
		roots = append(roots, r)
	}
	t.mu.Unlock()
	live := map[PageID]bool{}
	for _, r := range roots {
		if r.IsZero() || live[r] {
			continue
		}
		live[r] = true
		if err := t.mark(r, live); err != nil {
			return 0, err
		}
	}
	var dead []PageID
	if err := t.pages.List(func(id PageID) {
		if !live[id] {
			dead = append(dead, id)
		}
	}); err != nil {
		return 0, ErrStore.Wrapf("list pages of %s: %v", t.name, err)
	}
	for i, id := range dead {
		if err := t.pages.Delete(id); err != nil {
			return i, ErrStore.Wrapf("delete page %s of %s: %v", id, t.name, err)
		}
	}
	return len(dead), nil
}

// mark adds every page under internal page id to live. A level-1 node
// names its leaves, so leaves are never read.
func (t *Tree) mark(id PageID, live map[PageID]bool) error {
	n, err := t.read(id)
	if err != nil {
		return err
	}
	for _, k := range n.kids {
		if live[k.id] {
			continue // shared with a version marked already
		}
		live[k.id] = true
		if n.level > 1 {
			if err := t.mark(k.id, live); err != nil {
				return err
			}
		}
	}
	return nil
}
