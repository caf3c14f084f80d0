// Command secretstore keeps secrets (identity data, credentials) that only
// their owner and the accounts the owner grants can read. Grants and
// revocations are events sealed to the reader, so nobody else learns who
// may read what.
package main

import (
	"errors"

	"github.com/phala-go/phala/sdk"
)

// Storage: "secret/" owner+0+name -> value; "grant/" owner+0+name+0+reader -> true.
var (
	secrets = sdk.NewMap[string]("secret")
	grants  = sdk.NewMap[bool]("grant")
)

// PutArgs stores (or replaces) the caller's secret Name.
type PutArgs struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// GrantArgs lets Reader read the caller's secret Name (or stops it).
type GrantArgs struct {
	Name   string      `json:"name"`
	Reader sdk.Address `json:"reader"`
}

// GetArgs reads Owner's secret Name.
type GetArgs struct {
	Owner sdk.Address `json:"owner"`
	Name  string      `json:"name"`
}

// ErrDenied is the answer to anyone neither owner nor granted.
var ErrDenied = errors.New("access denied")

func init() {
	sdk.Command("put", put)
	sdk.Command("grant", func(a GrantArgs) (sdk.Empty, error) { return setGrant(a, true) })
	sdk.Command("revoke", func(a GrantArgs) (sdk.Empty, error) { return setGrant(a, false) })
	sdk.Query("get", get)
}

func secretKey(owner sdk.Address, name string) string { return owner.Key() + "\x00" + name }

func put(a PutArgs) (sdk.Empty, error) {
	if a.Name == "" {
		return sdk.Empty{}, errors.New("name required")
	}
	return sdk.Empty{}, secrets.Set(secretKey(sdk.CallerAddress(), a.Name), a.Secret)
}

func setGrant(a GrantArgs, allow bool) (sdk.Empty, error) {
	owner := sdk.CallerAddress()
	k := secretKey(owner, a.Name)
	if _, ok, err := secrets.Get(k); err != nil || !ok {
		return sdk.Empty{}, errors.Join(err, errors.New("no such secret"))
	}
	gk := k + "\x00" + a.Reader.Key()
	topic := "secret.revoked"
	if allow {
		topic = "secret.granted"
		if err := grants.Set(gk, true); err != nil {
			return sdk.Empty{}, err
		}
	} else {
		grants.Delete(gk)
	}
	sdk.EmitTo(topic, []byte(a.Name), a.Reader, owner)
	return sdk.Empty{}, nil
}

func get(a GetArgs) (string, error) {
	caller := sdk.CallerAddress()
	k := secretKey(a.Owner, a.Name)
	if caller.Key() != a.Owner.Key() {
		if ok, _, err := grants.Get(k + "\x00" + caller.Key()); err != nil || !ok {
			return "", ErrDenied
		}
	}
	s, ok, err := secrets.Get(k)
	if err != nil || !ok {
		// Same answer as a denial would leak nothing to the owner only.
		return "", errors.Join(err, errors.New("no such secret"))
	}
	return s, nil
}

func main() {}
