package tx

import (
	stded25519 "crypto/ed25519"
	"crypto/sha512"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/phala-go/phala/crypto/sigctx"
)

const verifyChain = "verify-chain"

// stdVerify is the reference: what the chain accepted before it used voi.
func stdVerify(pub []byte, msg, sig []byte) bool {
	return sigctx.Tx.Verify(pub, verifyChain, msg, sig)
}

func compress(p *curve.EdwardsPoint) []byte {
	var c curve.CompressedEdwardsY
	c.SetEdwardsPoint(p)
	return c[:]
}

func scalarFrom(b byte) *scalar.Scalar {
	var wide [64]byte
	for i := range wide {
		wide[i] = b ^ byte(i)
	}
	s, _ := scalar.New().SetBytesModOrderWide(wide[:])
	return s
}

// hram is H(R, A, M) for the transaction context's message.
func hram(r, a, msg []byte) *scalar.Scalar {
	h := sha512.New()
	h.Write(r)
	h.Write(a)
	h.Write(sigctx.Tx.Bytes(verifyChain))
	h.Write(msg)
	k, _ := scalar.New().SetBytesModOrderWide(h.Sum(nil))
	return k
}

// forge signs msg by hand with secret scalar a under public encoding pub
// (which may be a+T for a torsion point T), with nonce point R = rB + tR.
func forge(a *scalar.Scalar, pub []byte, r *scalar.Scalar, tR *curve.EdwardsPoint, msg []byte) []byte {
	R := curve.NewEdwardsPoint().MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
	if tR != nil {
		R.Add(R, tR)
	}
	rb := compress(R)
	k := hram(rb, pub, msg)
	S := scalar.New().Mul(k, a)
	S.Add(S, r)
	sig := make([]byte, 64)
	copy(sig, rb)
	_ = S.ToBytes(sig[32:])
	return sig
}

// addL adds the group order to a canonical S (a malleated signature).
func addL(sig []byte) []byte {
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 31: 0x10}
	out := append([]byte{}, sig...)
	carry := 0
	for i := range 32 {
		v := int(out[32+i]) + int(l[i]) + carry
		out[32+i], carry = byte(v), v>>8
	}
	return out
}

type verifyCase struct {
	name     string
	pub, sig []byte
	msg      []byte
}

// verifyCases are the encodings where ed25519 implementations disagree:
// small-order and mixed-order keys and nonces, non-canonical points, S
// above the group order.
func verifyCases(t testing.TB) []verifyCase {
	msg := []byte("transfer 1000")
	pub, priv, _ := stded25519.GenerateKey(nil)
	good := sigctx.Tx.Sign(priv, verifyChain, msg)

	identity := compress(curve.NewEdwardsPoint().Identity())
	nonCanonicalIdentity := []byte{0xee, 31: 0x7f} // y = p+1
	for i := 1; i < 31; i++ {
		nonCanonicalIdentity[i] = 0xff
	}
	negZeroIdentity := append([]byte{}, identity...)
	negZeroIdentity[31] |= 0x80 // x = -0
	zeroSig := append(append([]byte{}, identity...), make([]byte, 32)...)

	a := scalarFrom(7)
	A := curve.NewEdwardsPoint().MulBasepoint(curve.ED25519_BASEPOINT_TABLE, a)
	cases := []verifyCase{
		{"valid", pub, good, msg},
		{"other message", pub, good, []byte("transfer 1001")},
		{"S plus L", pub, addL(good), msg},
		{"identity key, zero signature", identity, zeroSig, msg},
		{"non-canonical identity key", nonCanonicalIdentity, zeroSig, msg},
		{"negative-zero identity key", negZeroIdentity, zeroSig, msg},
		{"non-canonical identity R", identity, append(append([]byte{}, nonCanonicalIdentity...), make([]byte, 32)...), msg},
		{"negative-zero identity R", identity, append(append([]byte{}, negZeroIdentity...), make([]byte, 32)...), msg},
		{"hand-made valid", compress(A), forge(a, compress(A), scalarFrom(9), nil, msg), msg},
	}
	for i, T := range curve.EIGHT_TORSION {
		mixed := curve.NewEdwardsPoint().Add(A, T)
		mpub := compress(mixed)
		r := scalarFrom(byte(20 + i))
		// Mixed-order key: the cofactored equation accepts, the
		// cofactorless one only if the torsion parts cancel.
		cases = append(cases,
			verifyCase{"mixed-order key", mpub, forge(a, mpub, r, nil, msg), msg},
			verifyCase{"small-order R", compress(A), forge(a, compress(A), r, T, msg), msg},
			verifyCase{"torsion key", compress(T), append(compress(T), make([]byte, 32)...), msg},
		)
	}
	return cases
}

func TestVerifyMatchesStdlib(t *testing.T) {
	accepted, refused := 0, 0
	for _, tc := range verifyCases(t) {
		want := stdVerify(tc.pub, tc.msg, tc.sig)
		if got := verifyTx(tc.pub, verifyChain, tc.msg, tc.sig); got != want {
			t.Errorf("%s: voi says %v, crypto/ed25519 %v", tc.name, got, want)
		}
		if want {
			accepted++
		} else {
			refused++
		}
	}
	// The table must exercise both verdicts, and include a case the
	// cofactored (ZIP-215) rules would judge differently, or it proves nothing.
	if accepted < 3 || refused < 3 {
		t.Fatalf("only %d accepted and %d refused cases", accepted, refused)
	}
	differs := false
	for _, tc := range verifyCases(t) {
		zip := ed25519.VerifyWithOptions(tc.pub, append(sigctx.Tx.Bytes(verifyChain), tc.msg...), tc.sig, &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215})
		differs = differs || zip != stdVerify(tc.pub, tc.msg, tc.sig)
	}
	if !differs {
		t.Fatal("no case separates cofactorless from cofactored verification")
	}
}

func FuzzVerifyMatchesStdlib(f *testing.F) {
	for _, tc := range verifyCases(f) {
		f.Add(tc.pub, tc.sig, tc.msg)
	}
	f.Fuzz(func(t *testing.T, pub, sig, msg []byte) {
		if len(pub) != 32 || len(sig) != 64 {
			return
		}
		if got, want := verifyTx(pub, verifyChain, msg, sig), stdVerify(pub, msg, sig); got != want {
			t.Fatalf("voi says %v, crypto/ed25519 %v for pub %x sig %x", got, want, pub, sig)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	msg := make([]byte, 100)
	pub, priv, _ := stded25519.GenerateKey(nil)
	sig := sigctx.Tx.Sign(priv, verifyChain, msg)
	b.Run("voi", func(b *testing.B) {
		for b.Loop() {
			verifyTx(pub, verifyChain, msg, sig)
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			stdVerify(pub, msg, sig)
		}
	})
}
