package keyring

import (
	"bytes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/phala-go/phala/crypto/address"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The key file format, version 1.
const (
	fileVersion  = 1
	kdfAlg       = "argon2id"
	cipherName   = "xchacha20poly1305"
	saltSize     = 16
	keySize      = chacha20poly1305.KeySize
	nonceSize    = chacha20poly1305.NonceSizeX
	sealedSize   = ed25519.SeedSize + chacha20poly1305.Overhead
	keyCheckSize = 16

	// maxFileSize bounds what is read; a real file is under 1 KiB.
	maxFileSize = 16 << 10

	// Bounds on the KDF parameters a file may ask for. The file is
	// untrusted input: without them, opening a hostile file could demand
	// terabytes of memory, or panic inside argon2 (time or threads 0).
	maxKDFTime      = 16
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	// Argon2 needs at least 8 KiB per thread (RFC 9106); the x/crypto code
	// would silently raise a smaller value, giving files that other
	// implementations read differently.
	minKDFMemoryPerThread = 8

	// Domains of the two hashes below.
	adDomain       = "phala/keyring/keyfile/v1\x00"
	keyCheckDomain = "phala/keyring/key-check/v1\x00"
)

// kdfParams are the Argon2id cost parameters.
type kdfParams struct {
	time      uint32
	memoryKiB uint32
	threads   uint8
}

var (
	// defaultKDF takes a few hundred milliseconds and 64 MiB, which makes
	// guessing passphrases of a stolen file expensive.
	defaultKDF = kdfParams{time: 3, memoryKiB: 64 << 10, threads: 2}
	// fastKDF is for tests only; see UnsafeFastKDF.
	fastKDF = kdfParams{time: 1, memoryKiB: 64, threads: 1}
)

func (p kdfParams) validate() error {
	switch {
	case p.time < 1 || p.time > maxKDFTime:
		return fmt.Errorf("kdf time %d outside 1..%d", p.time, maxKDFTime)
	case p.threads < 1:
		return errors.New("kdf threads is 0")
	case p.memoryKiB < minKDFMemoryPerThread*uint32(p.threads) || p.memoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("kdf memory_kib %d outside %d..%d",
			p.memoryKiB, minKDFMemoryPerThread*uint32(p.threads), maxKDFMemoryKiB)
	}
	return nil
}

// derive stretches the passphrase into the 32-byte AEAD key.
func (p kdfParams) derive(passphrase string, salt []byte) []byte {
	return argon2.IDKey([]byte(passphrase), salt, p.time, p.memoryKiB, p.threads, keySize)
}

// keyCheck is a short hash of the derived key, stored in the file so that a
// wrong passphrase (check differs) can be told apart from a modified file
// (check matches, decryption fails). It gives a guesser nothing new: testing
// a guess against it costs the same Argon2 run as trying to decrypt.
func keyCheck(key []byte) []byte {
	h := sha256.Sum256(append([]byte(keyCheckDomain), key...))
	return h[:keyCheckSize]
}

// fileJSON is the on-disk layout. key_check is the only field beyond the
// header and ciphertext; see keyCheck.
type fileJSON struct {
	Version    int     `json:"version"`
	Name       string  `json:"name"`
	Address    string  `json:"address"`
	PublicKey  string  `json:"public_key"`
	KDF        kdfJSON `json:"kdf"`
	Cipher     string  `json:"cipher"`
	Nonce      string  `json:"nonce"`
	Ciphertext string  `json:"ciphertext"`
	KeyCheck   string  `json:"key_check"`
}

type kdfJSON struct {
	Alg       string `json:"alg"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint32 `json:"threads"`
	Salt      string `json:"salt"`
}

// sealedKey is a decoded and validated key file: every field has its
// expected size, the KDF parameters are in bounds, and the address belongs
// to the public key. Only the seed is still encrypted.
type sealedKey struct {
	name       string
	address    address.Address
	publicKey  ed25519.PublicKey
	kdf        kdfParams
	salt       []byte
	nonce      []byte
	ciphertext []byte
	keyCheck   []byte
}

// decodeKeyFile parses and validates a key file. Its errors describe the
// problem without naming the file; callers add that.
func decodeKeyFile(data []byte) (*sealedKey, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	f, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("unsupported version %d", f.Version)
	}
	if f.KDF.Alg != kdfAlg {
		return nil, fmt.Errorf("unsupported kdf %q", f.KDF.Alg)
	}
	if f.Cipher != cipherName {
		return nil, fmt.Errorf("unsupported cipher %q", f.Cipher)
	}
	if err := checkName(f.Name); err != nil {
		return nil, fmt.Errorf("name field: %w", err)
	}
	s := &sealedKey{name: f.Name}
	if err := s.decodeHeader(f); err != nil {
		return nil, err
	}
	if err := s.decodeSecretFields(f); err != nil {
		return nil, err
	}
	return s, nil
}

// parseJSON is strict: unknown fields or trailing data mean the file is not
// one this code wrote.
func parseJSON(data []byte) (*fileJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return &f, nil
}

// decodeHeader reads the public fields: key, address and KDF parameters.
func (s *sealedKey) decodeHeader(f *fileJSON) error {
	pub, err := decodeHex("public_key", f.PublicKey, ed25519.PublicKeySize)
	if err != nil {
		return err
	}
	s.publicKey = pub
	if s.address, err = address.Parse(f.Address); err != nil {
		return fmt.Errorf("address field: %w", err)
	}
	// A file whose address is not its key's would show one account and
	// sign for another.
	if s.address != address.FromPublicKey(pub) {
		return errors.New("address does not match public key")
	}
	if f.KDF.Threads > 255 {
		return fmt.Errorf("kdf threads %d above 255", f.KDF.Threads)
	}
	s.kdf = kdfParams{time: f.KDF.Time, memoryKiB: f.KDF.MemoryKiB, threads: uint8(f.KDF.Threads)}
	if err := s.kdf.validate(); err != nil {
		return err
	}
	s.salt, err = decodeHex("kdf salt", f.KDF.Salt, saltSize)
	return err
}

// decodeSecretFields reads the fields that only matter for decryption.
func (s *sealedKey) decodeSecretFields(f *fileJSON) error {
	var err error
	if s.nonce, err = decodeHex("nonce", f.Nonce, nonceSize); err != nil {
		return err
	}
	if s.ciphertext, err = decodeHex("ciphertext", f.Ciphertext, sealedSize); err != nil {
		return err
	}
	s.keyCheck, err = decodeHex("key_check", f.KeyCheck, keyCheckSize)
	return err
}

func decodeHex(field, s string, size int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not hex", field)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%s is %d bytes, want %d", field, len(b), size)
	}
	return b, nil
}

// encode renders the file, indented for people who look inside.
func (s *sealedKey) encode() []byte {
	f := fileJSON{
		Version:   fileVersion,
		Name:      s.name,
		Address:   s.address.String(),
		PublicKey: hex.EncodeToString(s.publicKey),
		KDF: kdfJSON{
			Alg:       kdfAlg,
			Time:      s.kdf.time,
			MemoryKiB: s.kdf.memoryKiB,
			Threads:   uint32(s.kdf.threads),
			Salt:      hex.EncodeToString(s.salt),
		},
		Cipher:     cipherName,
		Nonce:      hex.EncodeToString(s.nonce),
		Ciphertext: hex.EncodeToString(s.ciphertext),
		KeyCheck:   hex.EncodeToString(s.keyCheck),
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		panic("keyring: encoding key file: " + err.Error()) // only strings and numbers
	}
	return append(out, '\n')
}

// additionalData is what the AEAD authenticates besides the seed: the
// version and every header field except the name, so a key file stays
// valid when renamed or imported under another name, while swapping its
// public key, address or KDF parameters makes decryption fail. All fields
// have fixed sizes, so the concatenation is unambiguous.
func (s *sealedKey) additionalData() []byte {
	b := make([]byte, 0, 128)
	b = append(b, adDomain...)
	b = binary.BigEndian.AppendUint32(b, fileVersion)
	b = append(b, cipherName+"\x00"+kdfAlg+"\x00"...)
	b = append(b, s.address[:]...)
	b = append(b, s.publicKey...)
	b = binary.BigEndian.AppendUint32(b, s.kdf.time)
	b = binary.BigEndian.AppendUint32(b, s.kdf.memoryKiB)
	b = append(b, s.kdf.threads)
	return append(b, s.salt...)
}

// seal encrypts seed under passphrase, drawing salt and nonce from rng.
func seal(rng io.Reader, name string, seed []byte, passphrase string, p kdfParams) (*sealedKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	defer clear(priv)
	pub := append(ed25519.PublicKey(nil), priv[ed25519.SeedSize:]...)
	s := &sealedKey{
		name:      name,
		address:   address.FromPublicKey(pub),
		publicKey: pub,
		kdf:       p,
		salt:      make([]byte, saltSize),
		nonce:     make([]byte, nonceSize),
	}
	if _, err := io.ReadFull(rng, s.salt); err != nil {
		return nil, fmt.Errorf("reading random salt: %w", err)
	}
	if _, err := io.ReadFull(rng, s.nonce); err != nil {
		return nil, fmt.Errorf("reading random nonce: %w", err)
	}
	key := p.derive(passphrase, s.salt)
	defer clear(key)
	s.ciphertext = newAEAD(key).Seal(nil, s.nonce, seed, s.additionalData())
	s.keyCheck = keyCheck(key)
	return s, nil
}

// open decrypts the seed. It returns ErrWrongPassphrase itself, and plain
// errors for everything else, which is corruption.
func (s *sealedKey) open(passphrase string) ([]byte, error) {
	key := s.kdf.derive(passphrase, s.salt)
	defer clear(key)
	seed, aeadErr := newAEAD(key).Open(nil, s.nonce, s.ciphertext, s.additionalData())
	checkOK := subtle.ConstantTimeCompare(keyCheck(key), s.keyCheck) == 1
	switch {
	case aeadErr != nil && !checkOK:
		return nil, ErrWrongPassphrase
	case aeadErr != nil:
		return nil, errors.New("decryption failed although the passphrase is right: ciphertext or header modified")
	case !checkOK:
		clear(seed)
		return nil, errors.New("key_check does not match the passphrase")
	}
	if err := s.verifySeed(seed); err != nil {
		clear(seed)
		return nil, err
	}
	return seed, nil
}

// verifySeed makes sure the decrypted seed is the key the header shows
// (the address was checked against the public key when decoding).
func (s *sealedKey) verifySeed(seed []byte) error {
	if len(seed) != ed25519.SeedSize {
		return fmt.Errorf("decrypted seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	defer clear(priv)
	if !bytes.Equal(priv[ed25519.SeedSize:], s.publicKey) {
		return errors.New("decrypted key does not match public_key")
	}
	return nil
}

func newAEAD(key []byte) cipher.AEAD {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic("keyring: " + err.Error()) // key is always keySize bytes
	}
	return aead
}

// info is the public view of the key, under the name it is stored as.
func (s *sealedKey) info(name string) Info {
	return Info{
		Name:      name,
		Address:   s.address,
		PublicKey: append(ed25519.PublicKey(nil), s.publicKey...),
	}
}
