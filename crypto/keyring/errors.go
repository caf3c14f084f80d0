package keyring

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is. The errors the Keyring returns wrap them
// with the key file's path, and their texts are chosen to read well inside
// those messages, for example:
//
//	key file /home/u/.phala/keys/alice.key not found
//	key file /home/u/.phala/keys/alice.key already exists
//	key file /home/u/.phala/keys/alice.key: wrong passphrase
//	key file /home/u/.phala/keys/alice.key is corrupt: address does not match public key
//
// so a command-line tool can print err.Error() as it is.
var (
	// ErrNotFound: no key of that name.
	ErrNotFound = errors.New("not found")
	// ErrExists: a key of that name exists; the keyring never overwrites.
	ErrExists = errors.New("already exists")
	// ErrWrongPassphrase: the passphrase does not open the key.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrCorrupt: the key file is malformed or was modified.
	ErrCorrupt = errors.New("corrupt")
	// ErrInvalidName: the key name is not allowed (see the package doc).
	ErrInvalidName = errors.New("invalid key name")
)

// fileError attaches a label ("key file /x/y.key" or "imported key file")
// to a problem found while decoding or opening a key file. Everything that
// is not a wrong passphrase is corruption.
func fileError(label string, err error) error {
	if errors.Is(err, ErrWrongPassphrase) {
		return fmt.Errorf("%s: %w", label, ErrWrongPassphrase)
	}
	return fmt.Errorf("%s is %w: %w", label, ErrCorrupt, err)
}
