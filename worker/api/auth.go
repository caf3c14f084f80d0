package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/phala-go/phala/relaywire"
)

// TokenFile is the relay API's secret in the runtime's home. Only the
// relay its operator set up reads it: a process that reaches the loopback
// port but cannot read the home (another user, a sandboxed service) is
// refused, so it can neither feed blocks nor ask for registration evidence.
const TokenFile = relaywire.TokenFile

// tokenBytes is the secret's entropy; the file holds it in hex.
const tokenBytes = 32

// Token is the relay API's bearer secret. Its zero value matches no
// request, so a handler built without one refuses everything.
type Token struct{ secret string }

// LoadOrCreateToken reads the token at path, or creates a random one
// (mode 0600) if there is none. A token file others can read is refused:
// it would no longer tell the operator's relay apart from anyone else.
func LoadOrCreateToken(path string) (Token, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createToken(path)
	}
	if err != nil {
		return Token{}, ErrToken.Wrapf("%s: %v", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return Token{}, ErrToken.Wrapf("%s is readable by others (mode %v); chmod 600 it", path, info.Mode().Perm())
	}
	return ReadToken(path)
}

func createToken(path string) (Token, error) {
	raw := make([]byte, tokenBytes)
	rand.Read(raw)
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Token{}, ErrToken.Wrapf("%v", err)
	}
	// O_EXCL: two runtimes racing on one home must not overwrite each
	// other's token after one has handed it out.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Token{}, ErrToken.Wrapf("create %s: %v", path, err)
	}
	_, err = f.WriteString(secret + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return Token{}, ErrToken.Wrapf("write %s: %v", path, err)
	}
	return Token{secret: secret}, nil
}

// ReadToken reads a token file written by LoadOrCreateToken: what a relay
// does with the runtime's token.
func ReadToken(path string) (Token, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Token{}, ErrToken.Wrapf("%v", err)
	}
	return ParseToken(string(raw))
}

// ParseToken checks a token's text (surrounding space ignored). The error
// never repeats the text: it is a secret.
func ParseToken(s string) (Token, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err != nil || len(b) != tokenBytes {
		return Token{}, ErrToken.Wrapf("not a relay API token (want %d hex characters)", 2*tokenBytes)
	}
	return Token{secret: s}, nil
}

// IsZero reports whether t is no token.
func (t Token) IsZero() bool { return t.secret == "" }

// Header is the Authorization header value that carries t.
func (t Token) Header() string { return "Bearer " + t.secret }

// String hides the secret, so a token printed or logged by mistake leaks
// nothing.
func (t Token) String() string { return "[relay API token]" }

// GoString hides the secret from %#v too.
func (t Token) GoString() string { return t.String() }

// matches compares in constant time. Both sides are hashed first so the
// comparison's length does not depend on what the caller sent.
func (t Token) matches(header string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || t.IsZero() {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(t.secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// requireToken refuses, with 401 and a coded error, every request that
// does not carry tok; the message does not say what was sent.
func requireToken(tok Token, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tok.matches(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="phala relay API"`)
			writeError(w, ErrUnauthorized.Wrapf("the relay API needs the runtime's token (%s in its home)", TokenFile))
			return
		}
		h.ServeHTTP(w, r)
	})
}
