package meter

// Encoding helpers: append-style, never fail.

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendVec(b []byte, n int) []byte { return appendULEB(b, uint64(n)) }

func appendSection(b []byte, id byte, payload []byte) []byte {
	b = append(b, id)
	b = appendULEB(b, uint64(len(payload)))
	return append(b, payload...)
}

func appendLimits(b []byte, l limits) []byte {
	if l.hasMax {
		b = append(b, 1)
		b = appendULEB(b, uint64(l.min))
		return appendULEB(b, uint64(l.max))
	}
	b = append(b, 0)
	return appendULEB(b, uint64(l.min))
}

func appendFuncType(b []byte, t funcType) []byte {
	b = append(b, 0x60)
	b = appendVec(b, len(t.params))
	b = append(b, t.params...)
	b = appendVec(b, len(t.results))
	return append(b, t.results...)
}
