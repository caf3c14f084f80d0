package vm

// Go's linker splits a module's data into tens of thousands of active
// segments (it cuts at every run of zeros), and instantiation evaluates and
// copies each one: ~5 ms per instance for a small contract. mergeData joins
// neighbouring segments whose gap is at most mergeGap bytes, writing the
// gap's zeros explicitly, which leaves the initial memory unchanged since
// memory starts zeroed. It only touches modules whose segments are all
// active, memory 0, constant offsets and disjoint, and which have
// no DataCount section (so no memory.init/data.drop refers to segment
// indices); anything else is returned as it came, for the meter to judge.

import (
	"cmp"
	"slices"
)

const mergeGap = 4096

// mergeVersion names mergeData's output; bump it when that output changes
// (it is part of the instrumented-code cache key, see codecache.go).
const mergeVersion = 1

type dataSeg struct {
	off  uint32
	data []byte
}

func mergeData(code []byte) []byte {
	if len(code) < 8 {
		return code
	}
	var dataStart, dataEnd int
	for p := 8; p < len(code); {
		id := code[p]
		n, q, ok := readU32(code, p+1)
		if !ok || q+int(n) > len(code) {
			return code
		}
		switch id {
		case 12:
			return code
		case 11:
			dataStart, dataEnd = p, q+int(n)
		}
		p = q + int(n)
	}
	if dataStart == 0 {
		return code
	}
	_, body, _ := readU32(code, dataStart+1)
	segs, ok := parseData(code[body:dataEnd])
	if !ok || len(segs) < 2 {
		return code
	}
	merged := joinSegments(segs)
	out := append([]byte(nil), code[:dataStart]...)
	out = append(out, 11)
	sec := encodeData(merged)
	out = appendU32(out, uint32(len(sec)))
	out = append(out, sec...)
	return append(out, code[dataEnd:]...)
}

func parseData(b []byte) ([]dataSeg, bool) {
	count, p, ok := readU32(b, 0)
	if !ok || count > uint32(len(b)) {
		return nil, false
	}
	segs := make([]dataSeg, 0, count)
	for range count {
		// flags 0, i32.const offset, end
		if p+2 > len(b) || b[p] != 0 || b[p+1] != 0x41 {
			return nil, false
		}
		off, q, ok := readS32(b, p+2)
		if !ok || q >= len(b) || b[q] != 0x0b {
			return nil, false
		}
		n, q2, ok := readU32(b, q+1)
		if !ok || q2+int(n) > len(b) {
			return nil, false
		}
		segs = append(segs, dataSeg{off: uint32(off), data: b[q2 : q2+int(n)]})
		p = q2 + int(n)
	}
	if p != len(b) {
		return nil, false
	}
	// Disjoint segments may be applied in any order; overlapping ones not.
	slices.SortStableFunc(segs, func(x, y dataSeg) int { return cmp.Compare(x.off, y.off) })
	var end uint64
	for _, s := range segs {
		if uint64(s.off) < end {
			return nil, false
		}
		end = uint64(s.off) + uint64(len(s.data))
	}
	return segs, true
}

func joinSegments(segs []dataSeg) []dataSeg {
	out := []dataSeg{{off: segs[0].off, data: append([]byte(nil), segs[0].data...)}}
	for _, s := range segs[1:] {
		last := &out[len(out)-1]
		gap := uint64(s.off) - (uint64(last.off) + uint64(len(last.data)))
		if gap <= mergeGap {
			last.data = append(last.data, make([]byte, gap)...)
			last.data = append(last.data, s.data...)
			continue
		}
		out = append(out, dataSeg{off: s.off, data: append([]byte(nil), s.data...)})
	}
	return out
}

func encodeData(segs []dataSeg) []byte {
	b := appendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = appendS32(b, int32(s.off))
		b = append(b, 0x0b)
		b = appendU32(b, uint32(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

func readU32(b []byte, p int) (uint32, int, bool) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		if p >= len(b) {
			return 0, p, false
		}
		c := b[p]
		p++
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v, p, true
		}
	}
	return 0, p, false
}

func readS32(b []byte, p int) (int32, int, bool) {
	var v int64
	shift := 0
	for shift < 35 {
		if p >= len(b) {
			return 0, p, false
		}
		c := b[p]
		p++
		v |= int64(c&0x7f) << shift
		shift += 7
		if c < 0x80 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, p, false
			}
			return int32(v), p, true
		}
	}
	return 0, p, false
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
