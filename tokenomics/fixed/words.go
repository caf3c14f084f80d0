package fixed

import "math/bits"

// Word arithmetic behind Div and Sqrt. The settlement of ten thousand
// workers takes a square root and a division per worker; math/big spent
// microseconds on each (allocations included), these take tens of
// nanoseconds. FuzzWordsAgainstBig keeps them equal to math/big.

// divWords is floor(N/D) for N = n2·2^128 + n1·2^64 + n0 and D = d1·2^64 +
// d0 (not zero), with ok false when the quotient needs more than 128 bits.
func divWords(n2, n1, n0, d1, d0 uint64) (q1, q0 uint64, ok bool) {
	if d1 == 0 {
		if n2 >= d0 {
			return 0, 0, false
		}
		var r uint64
		q1, r = bits.Div64(n2, n1, d0)
		q0, _ = bits.Div64(r, n0, d0)
		return q1, q0, true
	}
	// Knuth's algorithm D with a two-word divisor: normalise so the
	// divisor's top bit is set, then two quotient words, each from three
	// words of the dividend. The quotient is below 2^128 since D ≥ 2^64.
	s := uint(bits.LeadingZeros64(d1))
	v1, v0 := d1<<s|d0>>(64-s), d0<<s
	// (A shift by 64 is 0 in Go, which is what s = 0 needs.)
	u3, u2, u1, u0 := n2>>(64-s), n2<<s|n1>>(64-s), n1<<s|n0>>(64-s), n0<<s
	q1, u2, u1 = div3by2(u3, u2, u1, v1, v0)
	q0, _, _ = div3by2(u2, u1, u0, v1, v0)
	return q1, q0, true
}

// div3by2 divides (a2, a1, a0) by the normalised (v1, v0), given (a2, a1)
// < (v1, v0), so the quotient fits a word; it returns the quotient and the
// two-word remainder.
func div3by2(a2, a1, a0, v1, v0 uint64) (q, r1, r0 uint64) {
	var rhat uint64
	rhatOver := false
	if a2 >= v1 { // a2 == v1: the estimate saturates
		q = ^uint64(0)
		var c uint64
		rhat, c = bits.Add64(a1, v1, 0) // (a2·2^64 + a1) − q·v1 = a1 + v1
		rhatOver = c != 0
	} else {
		q, rhat = bits.Div64(a2, a1, v1)
	}
	// At most two corrections: while q·v0 > rhat·2^64 + a0.
	for !rhatOver {
		ph, pl := bits.Mul64(q, v0)
		if ph < rhat || (ph == rhat && pl <= a0) {
			break
		}
		q--
		var c uint64
		rhat, c = bits.Add64(rhat, v1, 0)
		rhatOver = c != 0
	}
	// (a2, a1, a0) − q·(v1, v0), adding back once if q was still one too big.
	p0h, p0l := bits.Mul64(q, v0)
	p1h, p1l := bits.Mul64(q, v1)
	m1, c := bits.Add64(p1l, p0h, 0)
	m2 := p1h + c
	r0, b := bits.Sub64(a0, p0l, 0)
	r1, b = bits.Sub64(a1, m1, b)
	_, b = bits.Sub64(a2, m2, b)
	if b != 0 {
		q--
		r0, c = bits.Add64(r0, v0, 0)
		r1, _ = bits.Add64(r1, v1, c)
	}
	return q, r1, r0
}

// sqrtWords is floor(sqrt(N)) for N = n2·2^128 + n1·2^64, by Newton's
// iteration from a power of two above the root: the iterates fall to the
// root and the first that does not fall is it.
func sqrtWords(n2, n1 uint64) (hi, lo uint64) {
	var bitLen int
	switch {
	case n2 != 0:
		bitLen = 128 + bits.Len64(n2)
	case n1 != 0:
		bitLen = 64 + bits.Len64(n1)
	default:
		return 0, 0
	}
	e := uint((bitLen + 1) / 2) // 2^e ≥ sqrt(N)
	xh, xl := uint64(0), uint64(1)<<(e%64)
	if e >= 64 {
		xh, xl = uint64(1)<<(e-64), 0
	}
	for {
		qh, ql, _ := divWords(n2, n1, 0, xh, xl) // N/x < 2^128 while x ≥ sqrt(N)/2
		sl, c := bits.Add64(xl, ql, 0)
		sh, top := bits.Add64(xh, qh, c)
		// (x + N/x)/2, with the carry shifted in.
		yh, yl := sh>>1|top<<63, sl>>1|sh<<63
		if yh > xh || (yh == xh && yl >= xl) {
			return xh, xl
		}
		xh, xl = yh, yl
	}
}
