package meter

import "unicode/utf8"

// reader walks untrusted bytes. Every read checks bounds and returns an
// ErrMalformed error instead of panicking; callers stop at the first error.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = ErrMalformed.Wrapf(format, args...)
	}
}

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail("unexpected end at offset %d", r.pos)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.fail("length %d past end at offset %d", n, r.pos)
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 { return r.leb(bits, false) }

// sleb reads a signed LEB128 of at most bits bits.
func (r *reader) sleb(bits uint) int64 { return int64(r.leb(bits, true)) }

// leb reads a LEB128 of at most bits bits, rejecting overlong encodings
// and unused bits of the last byte a width allows that are not zero
// (unsigned) or copies of the sign bit (signed), as the spec requires. A
// signed value comes back sign-extended to 64 bits.
func (r *reader) leb(bits uint, signed bool) uint64 {
	var v uint64
	var shift uint
	maxBytes := (bits + 6) / 7
	for i := uint(0); i < maxBytes; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if rem := bits - shift; i == maxBytes-1 && rem < 7 && !unusedBitsOK(c, rem, signed) {
			if signed {
				r.fail("signed LEB128 overflow at offset %d", r.pos-1)
			} else {
				r.fail("LEB128 overflow at offset %d", r.pos-1)
			}
			return 0
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if signed && shift < 64 && c&0x40 != 0 {
				v |= ^uint64(0) << shift
			}
			return v
		}
	}
	r.fail("LEB128 too long at offset %d", r.pos)
	return 0
}

// unusedBitsOK checks the bits of a last LEB128 byte c above the rem that
// carry value: zero when unsigned, all equal to the sign bit when signed.
func unusedBitsOK(c byte, rem uint, signed bool) bool {
	if !signed {
		return c>>rem == 0
	}
	hi := int8(c<<1) >> rem // bits rem-1..6 of c, sign-extended
	return hi == 0 || hi == -1
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector length and checks it cannot exceed the bytes left
// (every element takes at least one byte), so no huge allocation follows.
func (r *reader) count() int {
	n := r.u32()
	if r.err == nil && int64(n) > int64(len(r.b)-r.pos) {
		r.fail("count %d exceeds remaining %d bytes", n, len(r.b)-r.pos)
		return 0
	}
	return int(n)
}

// name reads a name, which the spec requires to be valid UTF-8 (a custom
// section's too, though Instrument drops it: a malformed module must not
// come out well formed).
func (r *reader) name() string {
	b := r.bytes(r.count())
	if r.err == nil && !utf8.Valid(b) {
		r.fail("name %q is not valid UTF-8", b)
	}
	return string(b)
}
