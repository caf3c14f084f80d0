package sdk

import "encoding/hex"

// Address is an account address (the host's caller bytes). Its JSON and
// text form is lower-case hex.
type Address []byte

// String is the hex form.
func (a Address) String() string { return hex.EncodeToString(a) }

// MarshalText encodes hex.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes hex.
func (a *Address) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	*a = v
	return err
}

// Key is the address as a storage map key.
func (a Address) Key() string { return string(a) }

// CallerAddress is Caller as an Address.
func CallerAddress() Address { return Address(Caller()) }
