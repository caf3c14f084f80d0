package attest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
)

// Sim quotes come from the development TEE ("sim"): software, no hardware
// protection. Their signing key is derived from a public string, so anyone
// can make one; they are accepted only where the policy says AllowSim.
//
// Encoding (SimQuoteSize bytes):
//
//	magic      15 bytes  "PHALA-SIM-QUOTE"
//	version     2 bytes  big-endian, 1
//	measurement 32 bytes
//	reportData 64 bytes
//	signature  64 bytes  ed25519 by the dev attestation key over
//	                     "phala/attest/sim-quote/v1" || 0x00 || the 113 bytes above
const (
	SimQuoteMagic   = "PHALA-SIM-QUOTE"
	SimQuoteVersion = 1
	SimQuoteSize    = len(SimQuoteMagic) + 2 + 32 + 64 + ed25519.SignatureSize

	simSignDomain = "phala/attest/sim-quote/v1\x00"
	simKeySeed    = "phala/attest/sim-dev-key/v1"
)

var simKey = sync.OnceValue(func() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(simKeySeed))
	return ed25519.NewKeyFromSeed(seed[:])
})

// SimDevPublicKey returns the well-known development attestation key that
// signs sim quotes (ed25519.NewKeyFromSeed(SHA-256("phala/attest/sim-dev-key/v1"))).
func SimDevPublicKey() ed25519.PublicKey {
	return simKey().Public().(ed25519.PublicKey)
}

// SignSimQuote makes a sim quote binding reportData to measurement.
func SignSimQuote(measurement [32]byte, reportData [64]byte) []byte {
	b := make([]byte, 0, SimQuoteSize)
	b = append(b, SimQuoteMagic...)
	b = binary.BigEndian.AppendUint16(b, SimQuoteVersion)
	b = append(b, measurement[:]...)
	b = append(b, reportData[:]...)
	return append(b, ed25519.Sign(simKey(), simMessage(b))...)
}

func simMessage(body []byte) []byte {
	return append([]byte(simSignDomain), body...)
}

// IsSimQuote reports whether b claims to be a sim quote (by its magic).
func IsSimQuote(b []byte) bool { return bytes.HasPrefix(b, []byte(SimQuoteMagic)) }

func verifySim(b []byte) (Verified, error) {
	if len(b) != SimQuoteSize {
		return Verified{}, fmt.Errorf("%w: sim quote is %d bytes, want %d", ErrMalformedQuote, len(b), SimQuoteSize)
	}
	n := len(SimQuoteMagic)
	if v := binary.BigEndian.Uint16(b[n:]); v != SimQuoteVersion {
		return Verified{}, fmt.Errorf("%w: sim quote version %d, want %d", ErrUnsupported, v, SimQuoteVersion)
	}
	body, sig := b[:SimQuoteSize-ed25519.SignatureSize], b[SimQuoteSize-ed25519.SignatureSize:]
	if !ed25519.Verify(SimDevPublicKey(), simMessage(body), sig) {
		return Verified{}, fmt.Errorf("%w: sim quote signature", ErrSignature)
	}
	v := Verified{TEE: KindSim, TCBStatus: StatusUpToDate}
	copy(v.MrEnclave[:], b[n+2:n+34])
	copy(v.ReportData[:], b[n+34:n+98])
	return v, nil
}
