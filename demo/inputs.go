package demo

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
)

// Inputs are the values a run keeps secret: each is fresh and random, so
// that a run's contracts are new (the salt) and so that a scan of
// everything outside the enclaves (the confidentiality test) can look for
// them. Only the client and the enclaves ever hold them in the clear.
type Inputs struct {
	// Salt makes this run's contract ids its own (a demo runs again on
	// the same network).
	Salt string `json:"salt"`
	// TokenSupply is minted to alice by the token's sealed init arguments.
	TokenSupply uint64 `json:"token_supply"`
	// Transfer is what alice sends bob: 12 random digits.
	Transfer   uint64 `json:"transfer"`
	SecretName string `json:"secret_name"`
	Secret     string `json:"secret"`
	// Ballot is the ballot's id and Options its choices; the votes name
	// them inside sealed commands.
	Ballot  string   `json:"ballot"`
	Options []string `json:"options"`
	// Features are bob's inference inputs (fixed point, times 1000): four
	// random five-digit values.
	Features []int64 `json:"features"`
}

// NewInputs makes fresh random inputs.
func NewInputs() Inputs {
	return Inputs{
		Salt:        "demo-" + randomHex(8),
		TokenSupply: 1_000_000_000_000_000,
		Transfer:    100_000_000_000 + randomUint(900_000_000_000),
		SecretName:  "passport-" + randomHex(8),
		Secret:      "secret-" + randomHex(16),
		Ballot:      "ballot-" + randomHex(8),
		Options:     []string{"yes-" + randomHex(6), "no-" + randomHex(6)},
		Features:    []int64{feature(), feature(), feature(), feature()},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand's contract)
	return hex.EncodeToString(b)
}

// randomUint is uniform enough in [0, n) for a demo's values.
func randomUint(n uint64) uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) % n
}

// feature is a random value of magnitude 10000..99999 (10.0 to 99.999),
// either sign: inside the model's range, and five digits long.
func feature() int64 {
	v := int64(10_000 + randomUint(90_000))
	if randomUint(2) == 0 {
		v = -v
	}
	return v
}
