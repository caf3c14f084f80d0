// Package address defines the 20-byte account addresses of the phala chain
// and their text form.
//
// An address is the first 20 bytes of a domain-separated SHA-256 hash: of an
// ed25519 public key for accounts a key controls (FromPublicKey), or of a
// module name for accounts that only the chain itself moves funds from
// (Module). The two domains differ, so no key can ever hash to a module's
// address.
//
// The text form is bech32m (BIP-350) with the human-readable part "pha", for
// example "pha1...". bech32m rather than hex because its checksum catches
// typos (any single changed character, any swap of two adjacent ones) before
// funds are sent to the wrong place.
package address

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// Length is the size of an address in bytes.
const Length = 20

// HRP is the human-readable part of every address's text form.
const HRP = "pha"

// Hash domains. The trailing zero byte ends the domain, so no domain can be
// a prefix of another domain followed by data.
const (
	accountDomain = "phala/address/account/v1\x00"
	moduleDomain  = "phala/address/module/v1\x00"
)

// maxQuoted bounds how much of a rejected input an error message repeats, so
// a huge bogus input does not become a huge error message.
const maxQuoted = 100

// ErrInvalid is wrapped by every error of Parse, FromBytes and
// UnmarshalText, for callers that want errors.Is.
var ErrInvalid = errors.New("invalid address")

// Address identifies an account of the chain. The zero value is the zero
// address, which no key or module derives in practice; IsZero tells it apart.
type Address [Length]byte

// FromPublicKey returns the address of the account controlled by pub:
// SHA-256(accountDomain || pub)[:20].
//
// It hashes pub as given and does not check its length, because it must not
// panic on chain input; callers that accept keys from outside validate them
// (len(pub) == ed25519.PublicKeySize) before relying on the result.
func FromPublicKey(pub ed25519.PublicKey) Address {
	return derive(accountDomain, pub)
}

// Module returns the address of the module account called name, for example
// the mining-reward pool. No private key controls such an address; only the
// chain's own logic moves funds from it.
func Module(name string) Address {
	return derive(moduleDomain, []byte(name))
}

func derive(domain string, data []byte) Address {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(data)
	var a Address
	copy(a[:], h.Sum(nil))
	return a
}

// FromBytes converts a raw 20-byte address. Any other length is refused
// rather than truncated or padded, because both would silently change which
// account is meant.
func FromBytes(b []byte) (Address, error) {
	var a Address
	if len(b) != Length {
		return a, fmt.Errorf("%w: %d bytes, want %d", ErrInvalid, len(b), Length)
	}
	copy(a[:], b)
	return a, nil
}

// Bytes returns a copy of the address's 20 bytes.
func (a Address) Bytes() []byte {
	return append([]byte(nil), a[:]...)
}

// IsZero reports whether a is the zero address. With it, JSON's "omitzero"
// option leaves unset addresses out.
func (a Address) IsZero() bool {
	return a == Address{}
}

// String returns the lowercase bech32m form, "pha1" followed by 38
// characters.
func (a Address) String() string {
	// 160 bits are exactly 32 five-bit groups, so no padding is involved
	// and ConvertBits cannot fail.
	groups, err := bech32.ConvertBits(a[:], 8, 5, true)
	if err != nil {
		panic("address: converting 20 bytes to base32: " + err.Error())
	}
	s, err := bech32.EncodeM(HRP, groups)
	if err != nil {
		panic("address: bech32m encoding: " + err.Error())
	}
	return s
}

// Parse reads the text form of an address. It accepts only bech32m with the
// human-readable part "pha" and a 20-byte payload, all lowercase or all
// uppercase (uppercase suits QR codes); anything else is refused with an
// error that quotes the input and wraps ErrInvalid.
func Parse(s string) (Address, error) {
	var a Address
	hrp, groups, version, err := bech32.DecodeGeneric(s)
	if err != nil {
		return a, invalid(s, describeDecodeError(err))
	}
	if hrp != HRP {
		return a, invalid(s, fmt.Sprintf("prefix %q, want %q", hrp, HRP))
	}
	if version != bech32.VersionM {
		// A bech32 (BIP-173) checksum is valid in itself, but accepting
		// both forms would give one address two spellings.
		return a, invalid(s, "bech32 checksum, want bech32m")
	}
	// Checking the group count first makes the byte count exact: 32
	// groups are 160 bits, no padding left to validate.
	if len(groups) != 32 {
		return a, invalid(s, fmt.Sprintf("%d data characters, want 32 (a %d-byte address)", len(groups), Length))
	}
	b, err := bech32.ConvertBits(groups, 5, 8, false)
	if err != nil || len(b) != Length {
		return a, invalid(s, "malformed payload")
	}
	copy(a[:], b)
	return a, nil
}

// describeDecodeError turns the bech32 package's errors into short, stable
// reasons; its own messages expose internals such as expected checksums.
func describeDecodeError(err error) string {
	var (
		checksum  bech32.ErrInvalidChecksum
		mixed     bech32.ErrMixedCase
		length    bech32.ErrInvalidLength
		separator bech32.ErrInvalidSeparatorIndex
		char      bech32.ErrInvalidCharacter
		nonCS     bech32.ErrNonCharsetChar
	)
	switch {
	case errors.As(err, &checksum):
		return "checksum mismatch"
	case errors.As(err, &mixed):
		return "mixed upper and lower case"
	case errors.As(err, &length):
		return fmt.Sprintf("length %d out of range", int(length))
	case errors.As(err, &separator):
		return "missing or misplaced separator '1'"
	case errors.As(err, &char):
		return "character outside printable ASCII"
	case errors.As(err, &nonCS):
		return fmt.Sprintf("character %q not in the bech32 alphabet", rune(nonCS))
	default:
		return err.Error()
	}
}

func invalid(s, reason string) error {
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "..."
	}
	return fmt.Errorf("%w %q: %s", ErrInvalid, s, reason)
}

// MustParse is Parse that panics on error. Use it only for constants and in
// tests, never on input.
func MustParse(s string) Address {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// MarshalText returns the bech32m form, so JSON, YAML and the like (including
// map keys) carry addresses as "pha1..." strings.
func (a Address) MarshalText() ([]byte, error) {
	return []byte(a.String()), nil
}

// UnmarshalText parses the bech32m form, as Parse does. An empty text is
// refused, not read as the zero address, so a missing value is noticed.
func (a *Address) UnmarshalText(text []byte) error {
	parsed, err := Parse(string(text))
	if err != nil {
		return err
	}
	*a = parsed
	return nil
}
