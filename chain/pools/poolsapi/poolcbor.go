package poolsapi

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// A pool is read and written at every reward a settlement pays it (once
// per pool and settlement part, up to 10,000 times a period), so its
// record's CBOR is written and read here rather than by the library's
// reflection: the same bytes (TestPoolCBORAsTheLibrary compares them on
// random pools), a third of the time. Reading is strict: shortest heads,
// exactly the fields, nothing after them.

const poolFields = 18

// MarshalCBOR writes the pool as the library writes a toarray struct.
func (p Pool) MarshalCBOR() ([]byte, error) {
	b := make([]byte, 0, 192)
	b = appendHead(b, majorArray, poolFields)
	b = appendHead(b, majorUint, uint64(p.ID))
	b = appendHead(b, majorBytes, uint64(len(p.Owner)))
	b = append(b, p.Owner[:]...)
	b = appendHead(b, majorUint, uint64(p.Commission))
	for _, a := range []token.Amount{p.Capacity, p.Shares, p.Stake, p.Free, p.Locked, p.Releasing} {
		b = appendAmount(b, a)
	}
	for _, s := range []Scaled{p.RewardPerShare, p.Carry} {
		if len(s.b) > maxScaled {
			return nil, fmt.Errorf("poolsapi: scaled number of %d bytes", len(s.b))
		}
		b = appendHead(b, majorBytes, uint64(len(s.b)))
		b = append(b, s.b...)
	}
	for _, a := range []token.Amount{p.Rewards, p.OwnerRewards, p.TotalRewards} {
		b = appendAmount(b, a)
	}
	b = appendHead(b, majorUint, uint64(p.Workers))
	b = appendHead(b, majorUint, p.Head)
	b = appendHead(b, majorUint, p.Tail)
	return appendAmount(b, p.Queued), nil
}

// UnmarshalCBOR reads what MarshalCBOR writes, and nothing else.
func (p *Pool) UnmarshalCBOR(data []byte) error {
	r := reader{b: data}
	if n := r.head(majorArray); n != poolFields && r.err == nil {
		r.err = fmt.Errorf("a pool has %d fields, not %d", poolFields, n)
	}
	var q Pool
	q.ID = ID(r.head(majorUint))
	if owner := r.bytes(); r.err == nil && len(owner) != len(q.Owner) {
		r.err = fmt.Errorf("owner of %d bytes", len(owner))
	} else {
		copy(q.Owner[:], owner)
	}
	q.Commission = tokenomics.Permill(r.uint32())
	for _, a := range []*token.Amount{&q.Capacity, &q.Shares, &q.Stake, &q.Free, &q.Locked, &q.Releasing} {
		*a = r.amount()
	}
	for _, s := range []*Scaled{&q.RewardPerShare, &q.Carry} {
		*s = r.scaled()
	}
	for _, a := range []*token.Amount{&q.Rewards, &q.OwnerRewards, &q.TotalRewards} {
		*a = r.amount()
	}
	q.Workers = r.uint32()
	q.Head = r.head(majorUint)
	q.Tail = r.head(majorUint)
	q.Queued = r.amount()
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("bytes after the pool")
	}
	if r.err != nil {
		return fmt.Errorf("poolsapi: pool: %w", r.err)
	}
	*p = q
	return nil
}

// CBOR major types.
const (
	majorUint  = 0
	majorBytes = 2
	majorArray = 4
)

// appendHead writes a data item's head in its shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffff_ffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

// appendAmount writes an amount as token.Amount.MarshalCBOR does: a byte
// string of its minimal big-endian bytes.
func appendAmount(b []byte, a token.Amount) []byte {
	hi, lo := a.Uint128()
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], hi)
	binary.BigEndian.PutUint64(buf[8:], lo)
	i := 0
	for i < 16 && buf[i] == 0 {
		i++
	}
	return append(append(b, majorBytes<<5|byte(16-i)), buf[i:]...)
}

// reader reads data items off b; the first error sticks.
type reader struct {
	b   []byte
	err error
}

// head reads a head of the given major type, in its shortest form.
func (r *reader) head(major byte) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errors.New("truncated")
		return 0
	}
	if r.b[0]>>5 != major {
		r.err = fmt.Errorf("major type %d, want %d", r.b[0]>>5, major)
		return 0
	}
	info := r.b[0] & 0x1f
	if info < 24 {
		r.b = r.b[1:]
		return uint64(info)
	}
	var size int
	var min uint64
	switch info {
	case 24:
		size, min = 1, 24
	case 25:
		size, min = 2, 0x100
	case 26:
		size, min = 4, 0x1_0000
	case 27:
		size, min = 8, 0x1_0000_0000
	}
	if size == 0 || len(r.b) < 1+size {
		r.err = fmt.Errorf("head %#x", r.b[0])
		return 0
	}
	var n uint64
	for _, c := range r.b[1 : 1+size] {
		n = n<<8 | uint64(c)
	}
	if n < min {
		r.err = fmt.Errorf("head of %d not in its shortest form", n)
		return 0
	}
	r.b = r.b[1+size:]
	return n
}

func (r *reader) uint32() uint32 {
	n := r.head(majorUint)
	if n > 0xffff_ffff && r.err == nil {
		r.err = fmt.Errorf("%d overflows 32 bits", n)
	}
	return uint32(n)
}

// bytes reads a byte string's contents.
func (r *reader) bytes() []byte {
	n := r.head(majorBytes)
	if r.err == nil && uint64(len(r.b)) < n {
		r.err = errors.New("truncated byte string")
	}
	if r.err != nil {
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// item returns the next byte string item whole, head included.
func (r *reader) item() []byte {
	start := r.b
	if r.bytes(); r.err != nil {
		return nil
	}
	return start[:len(start)-len(r.b)]
}

// amount reads what appendAmount writes: at most 16 bytes, no leading
// zero (token.Amount.UnmarshalCBOR's rule).
func (r *reader) amount() token.Amount {
	b := r.bytes()
	switch {
	case r.err != nil:
		return token.Amount{}
	case len(b) > 16:
		r.err = fmt.Errorf("amount of %d bytes", len(b))
		return token.Amount{}
	case len(b) > 0 && b[0] == 0:
		r.err = errors.New("amount with a leading zero byte")
		return token.Amount{}
	}
	var buf [16]byte
	copy(buf[16-len(b):], b)
	return token.FromUint128(binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:]))
}

func (r *reader) scaled() Scaled {
	var s Scaled
	if it := r.item(); r.err == nil {
		r.err = s.UnmarshalCBOR(it)
	}
	return s
}
