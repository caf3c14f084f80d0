package statetree

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
)

// Keys are a contract's state keys (derive.ContractKey.StateKeys).
type Keys struct {
	// MAC keys page ids (HMAC-SHA256), hence the root.
	MAC [32]byte
	// Encryption seals pages (AES-256-GCM).
	Encryption [32]byte
}

// blobVersion leads every sealed page, so a later format can coexist.
const blobVersion = 1

// sealer turns encodings into ids and blobs and back.
type sealer struct {
	mac  [32]byte
	aead cipher.AEAD
}

func newSealer(k Keys) (*sealer, error) {
	block, err := aes.NewCipher(k.Encryption[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{mac: k.MAC, aead: aead}, nil
}

// id is the page id of an encoding.
func (s *sealer) id(enc []byte) PageID {
	h := hmac.New(sha256.New, s.mac[:])
	h.Write(enc)
	var id PageID
	h.Sum(id[:0])
	return id
}

// seal encrypts enc for storage under id. The nonce is id's first 12
// bytes: distinct pages have distinct nonces (a 96-bit collision of keyed
// hashes is out of reach), equal pages equal ciphertexts.
func (s *sealer) seal(id PageID, enc []byte) []byte {
	out := make([]byte, 1, 1+len(enc)+s.aead.Overhead())
	out[0] = blobVersion
	return s.aead.Seal(out, id[:s.aead.NonceSize()], enc, id[:])
}

// open authenticates and decrypts blob as page id, and checks that the
// plaintext hashes to id: a blob of another page, an older version or
// edited bytes all fail here.
func (s *sealer) open(id PageID, blob []byte) ([]byte, bool) {
	if len(blob) < 1+s.aead.Overhead() || blob[0] != blobVersion {
		return nil, false
	}
	enc, err := s.aead.Open(nil, id[:s.aead.NonceSize()], blob[1:], id[:])
	if err != nil {
		return nil, false
	}
	// Redundant with the AEAD while the keys are this tree's alone; cheap
	// (only on cache misses) and it checks the hash the parent names.
	if got := s.id(enc); !hmac.Equal(got[:], id[:]) {
		return nil, false
	}
	return enc, true
}
