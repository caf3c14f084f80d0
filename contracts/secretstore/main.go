// Command secretstore keeps secrets (identity data, credentials) that only
// their owner and the accounts the owner grants can read. Grants and
// revocations are events sealed to the reader, so nobody else learns who
// may read what.
//
// An owner may also sell read access: with a price set on a secret, a
// would-be reader buys a grant by sending a command with at least that
// value (the rest is paid back); the owner's proceeds stay in the
// contract's account until the owner withdraws them.
package main

import (
	"errors"
	"fmt"

	"github.com/phala-go/phala/sdk"
)

// Storage: "secret/" owner+0+name -> value; "grant/" owner+0+name+0+reader
// -> true; "price/" owner+0+name -> amount; "proceeds/" owner -> amount.
var (
	secrets  = sdk.NewMap[string]("secret")
	grants   = sdk.NewMap[bool]("grant")
	prices   = sdk.NewMap[sdk.Amount]("price")
	proceeds = sdk.NewMap[sdk.Amount]("proceeds")
)

// PutArgs stores (or replaces) the caller's secret Name.
type PutArgs struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// GrantArgs lets Reader read the caller's secret Name (or stops it). With
// Owner set to another account, it is a purchase instead: the caller buys
// read access to Owner's secret Name at its price (Reader, if set, must be
// the caller).
type GrantArgs struct {
	Name   string      `json:"name"`
	Reader sdk.Address `json:"reader,omitempty"`
	Owner  sdk.Address `json:"owner,omitempty"`
}

// PriceArgs sets the price of reading the caller's secret Name (zero: not
// for sale).
type PriceArgs struct {
	Name  string     `json:"name"`
	Price sdk.Amount `json:"price"`
}

// GetArgs reads Owner's secret Name (and, for the query price, its price).
type GetArgs struct {
	Owner sdk.Address `json:"owner"`
	Name  string      `json:"name"`
}

// ErrDenied is the answer to anyone neither owner nor granted.
var ErrDenied = errors.New("access denied")

func init() {
	sdk.Command("put", put)
	sdk.Command("grant", grant)
	sdk.Command("revoke", func(a GrantArgs) (sdk.Empty, error) {
		if err := free(); err != nil {
			return sdk.Empty{}, err
		}
		return setGrant(sdk.CallerAddress(), a.Name, a.Reader, false)
	})
	sdk.Command("set_price", setPrice)
	sdk.Command("withdraw", withdraw)
	sdk.Query("get", get)
	sdk.Query("price", price)
	sdk.Query("proceeds", func(sdk.Empty) (sdk.Amount, error) {
		p, _, err := proceeds.Get(sdk.CallerAddress().Key())
		return p, err
	})
}

func secretKey(owner sdk.Address, name string) string { return owner.Key() + "\x00" + name }

// free refuses value: only a purchase takes any, so value sent to any
// other method would be lost to the sender. The revert sends it back.
func free() error {
	if v := sdk.Value(); !v.IsZero() {
		return fmt.Errorf("this method takes no value (sent %s)", v)
	}
	return nil
}

func put(a PutArgs) (sdk.Empty, error) {
	if err := free(); err != nil {
		return sdk.Empty{}, err
	}
	if a.Name == "" {
		return sdk.Empty{}, errors.New("name required")
	}
	return sdk.Empty{}, secrets.Set(secretKey(sdk.CallerAddress(), a.Name), a.Secret)
}

func exists(owner sdk.Address, name string) error {
	if _, ok, err := secrets.Get(secretKey(owner, name)); err != nil || !ok {
		return errors.Join(err, errors.New("no such secret"))
	}
	return nil
}

func grant(a GrantArgs) (sdk.Empty, error) {
	caller := sdk.CallerAddress()
	if len(a.Owner) > 0 && a.Owner.Key() != caller.Key() {
		return buy(a.Owner, a.Name, a.Reader)
	}
	if err := free(); err != nil {
		return sdk.Empty{}, err
	}
	return setGrant(caller, a.Name, a.Reader, true)
}

func setGrant(owner sdk.Address, name string, reader sdk.Address, allow bool) (sdk.Empty, error) {
	if err := exists(owner, name); err != nil {
		return sdk.Empty{}, err
	}
	if len(reader) == 0 {
		return sdk.Empty{}, errors.New("reader required")
	}
	gk := secretKey(owner, name) + "\x00" + reader.Key()
	topic := "secret.revoked"
	if allow {
		topic = "secret.granted"
		if err := grants.Set(gk, true); err != nil {
			return sdk.Empty{}, err
		}
	} else {
		grants.Delete(gk)
	}
	sdk.EmitTo(topic, []byte(name), reader, owner)
	return sdk.Empty{}, nil
}

// buy grants the caller read access to owner's secret for its price: the
// value sent must cover it, the owner's proceeds grow by the price and
// the rest goes back to the caller.
func buy(owner sdk.Address, name string, reader sdk.Address) (sdk.Empty, error) {
	buyer := sdk.CallerAddress()
	if len(reader) > 0 && reader.Key() != buyer.Key() {
		return sdk.Empty{}, errors.New("a purchase grants its buyer only")
	}
	if err := exists(owner, name); err != nil {
		return sdk.Empty{}, err
	}
	p, ok, err := prices.Get(secretKey(owner, name))
	if err != nil || !ok {
		return sdk.Empty{}, errors.Join(err, errors.New("not for sale"))
	}
	if granted, _, err := grants.Get(secretKey(owner, name) + "\x00" + buyer.Key()); err != nil || granted {
		return sdk.Empty{}, errors.Join(err, errors.New("already granted"))
	}
	value := sdk.Value()
	change, err := value.Sub(p)
	if err != nil {
		return sdk.Empty{}, fmt.Errorf("value %s is below the price %s", value, p)
	}
	earned, _, err := proceeds.Get(owner.Key())
	if err != nil {
		return sdk.Empty{}, err
	}
	if earned, err = earned.Add(p); err != nil {
		return sdk.Empty{}, err
	}
	if err := proceeds.Set(owner.Key(), earned); err != nil {
		return sdk.Empty{}, err
	}
	if !change.IsZero() {
		sdk.Pay(buyer, change)
	}
	return setGrant(owner, name, buyer, true)
}

func setPrice(a PriceArgs) (sdk.Empty, error) {
	if err := free(); err != nil {
		return sdk.Empty{}, err
	}
	owner := sdk.CallerAddress()
	if err := exists(owner, a.Name); err != nil {
		return sdk.Empty{}, err
	}
	if a.Price.IsZero() {
		prices.Delete(secretKey(owner, a.Name))
		return sdk.Empty{}, nil
	}
	return sdk.Empty{}, prices.Set(secretKey(owner, a.Name), a.Price)
}

// withdraw pays the caller all its proceeds: what it withdrew.
func withdraw(sdk.Empty) (sdk.Amount, error) {
	if err := free(); err != nil {
		return sdk.Amount{}, err
	}
	owner := sdk.CallerAddress()
	earned, _, err := proceeds.Get(owner.Key())
	if err != nil {
		return sdk.Amount{}, err
	}
	if earned.IsZero() {
		return sdk.Amount{}, errors.New("no proceeds")
	}
	proceeds.Delete(owner.Key())
	sdk.Pay(owner, earned)
	return earned, nil
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

// price is what reading Owner's secret Name costs; an error if it is not
// for sale. Anyone may ask: a price is an offer.
func price(a GetArgs) (sdk.Amount, error) {
	p, ok, err := prices.Get(secretKey(a.Owner, a.Name))
	if err != nil || !ok {
		return sdk.Amount{}, errors.Join(err, errors.New("not for sale"))
	}
	return p, nil
}

func main() {}
