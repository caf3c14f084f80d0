package vm

import (
	"github.com/phala-go/phala/vm/meter"
	"github.com/tetratelabs/wazero/api"
)

// snapshot is a reactor's whole state right after _initialize: its memory
// and its mutable globals. The meter refuses every instruction that could
// change anything else (tables, segments), so restoring both makes the
// reactor indistinguishable from a freshly initialised one, at the cost of
// one copy of the memory instead of an instantiation and a Go runtime
// start.
type snapshot struct {
	mem     []byte
	globals []api.MutableGlobal
	values  []uint64
}

// takeSnapshot copies mod's state. It returns nil for a module that does
// not export its state (unmetered test engines): such reactors are reset
// by instantiating them again.
func takeSnapshot(mod api.Module) *snapshot {
	count := mod.ExportedGlobal(meter.StateCountGlobal)
	memory := mod.Memory()
	if count == nil || memory == nil {
		return nil
	}
	s := &snapshot{}
	for k := 0; k < int(uint32(count.Get())); k++ {
		g, ok := mod.ExportedGlobal(meter.StateGlobalName(k)).(api.MutableGlobal)
		if !ok {
			return nil
		}
		s.globals = append(s.globals, g)
		s.values = append(s.values, g.Get())
	}
	buf, ok := memory.Read(0, memory.Size())
	if !ok {
		return nil
	}
	s.mem = append([]byte(nil), buf...)
	return s
}

// restore puts the snapshot back into mod. It reports false, changing
// nothing, when the memory has grown since: a memory cannot shrink, and
// a Go runtime that finds more memory than it asked for would behave
// differently from a fresh one, so the caller instantiates again.
func (s *snapshot) restore(mod api.Module) bool {
	memory := mod.Memory()
	if memory.Size() != uint32(len(s.mem)) {
		return false
	}
	buf, ok := memory.Read(0, memory.Size())
	if !ok {
		return false
	}
	copy(buf, s.mem)
	for i, g := range s.globals {
		g.Set(s.values[i])
	}
	return true
}
