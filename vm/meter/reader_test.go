package meter

import "testing"

// TestLEB128: the widths' limits, and the unused bits of a last byte that
// the spec requires be zero (unsigned) or copies of the sign (signed).
func TestLEB128(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		signed bool
		bits   uint
		want   int64
		ok     bool
	}{
		{"u32 zero", []byte{0x00}, false, 32, 0, true},
		{"u32 max", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, false, 32, 0xffffffff, true},
		{"u32 bit 33 set", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, false, 32, 0, false},
		{"u32 six bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, false, 32, 0, false},
		{"u32 padded zero", []byte{0x80, 0x00}, false, 32, 0, true},
		{"s32 minus one", []byte{0x7f}, true, 32, -1, true},
		{"s32 min", []byte{0x80, 0x80, 0x80, 0x80, 0x78}, true, 32, -1 << 31, true},
		{"s32 max", []byte{0xff, 0xff, 0xff, 0xff, 0x07}, true, 32, 1<<31 - 1, true},
		{"s32 unused bits differ from the sign", []byte{0x80, 0x80, 0x80, 0x80, 0x70}, true, 32, 0, false},
		{"s64 min", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, true, 64, -1 << 63, true},
		{"s64 bad last byte", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, true, 64, 0, false},
		{"truncated", []byte{0x80}, false, 32, 0, false},
	}
	for _, tc := range tests {
		r := &reader{b: tc.in}
		var got int64
		if tc.signed {
			got = r.sleb(tc.bits)
		} else {
			got = int64(r.uleb(tc.bits))
		}
		if ok := r.err == nil; ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: got %d, err %v; want %d, ok %v", tc.name, got, r.err, tc.want, tc.ok)
		}
	}
}
