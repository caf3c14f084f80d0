package keyring

import "crypto/sha256"

const devSeedDomain = "phala/devnet/seed/v1\x00"

// DevSeed returns the deterministic 32-byte seed SHA-256(domain || name)
// of a well-known development-network account, for example
//
//	kr.ImportSeed("alice", keyring.DevSeed("alice"), "")
//
// Anyone can compute these seeds, so the keys are public and worthless:
// use them only on throwaway development networks, never for anything of
// value.
func DevSeed(name string) []byte {
	h := sha256.Sum256([]byte(devSeedDomain + name))
	return h[:]
}
