package pagefile_test

import "github.com/phala-go/phala/vm"

// newMemModel holds the entries in memory, as contracts' storage was
// kept before (a vm.MemStore): the baseline of the memory test.
func newMemModel(n int, key func(int) []byte, value func(int) []byte) *vm.MemStore {
	m := vm.NewMemStore()
	for i := range n {
		_ = m.Set(key(i), value(i))
	}
	return m
}
