package authority_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
)

// toyParams stand for a module's params: a bounded number, a nested
// group, and one param that never changes.
type toyParams struct {
	Limit uint32 `json:"limit"`
	Group struct {
		Rate string `json:"rate"`
	} `json:"group"`
	Period int64 `json:"period"`
}

var (
	errInvalid = errs.Register("toy", 1, "invalid")
	errParams  = errs.Register("toy", 2, "parameter out of range")
	errAuth    = errs.Register("toy", 3, "not allowed")
	toyKey     = []byte("toy/params")
	admin      = address.Module("test/admin")
	stranger   = address.Module("test/stranger")
)

var toySetParams = authority.SetParams[toyParams]{
	Event:      "toy_params",
	Governable: []module.ParamSpec{{Path: "limit", Range: "in [1, 100]"}, {Path: "group.rate", Range: "non-empty"}},
	Fixed:      map[string]string{"period": "periods are numbered by it"},
	Get: func(ctx *module.Context) (toyParams, error) {
		var p toyParams
		raw, err := ctx.Store.Get(toyKey)
		if err != nil {
			return p, err
		}
		return p, json.Unmarshal(raw, &p)
	},
	Validate: func(_ *module.Context, p toyParams) error {
		if p.Limit == 0 || p.Limit > 100 || p.Group.Rate == "" {
			return errParams.Wrapf("out of range: %+v", p)
		}
		return nil
	},
	Put: func(ctx *module.Context, p toyParams) {
		raw, _ := json.Marshal(p)
		ctx.Store.Set(toyKey, raw)
	},
	ErrInvalid: errInvalid, ErrParams: errParams, ErrUnauthorized: errAuth,
}

type mapReader map[string][]byte

func (m mapReader) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

// toyChain is a state with the toy's params and, if withAdmin, an unsafe
// dev admin.
func toyChain(withAdmin bool) *state.Overlay {
	s := state.NewOverlay(mapReader{})
	s.Set(toyKey, []byte(`{"limit":10,"group":{"rate":"0.5"},"period":60}`))
	if withAdmin {
		authority.SetUnsafeDevAdmin(s, admin)
	}
	return s
}

func change(pv ...string) []byte {
	var c module.ParamChange
	for i := 0; i < len(pv); i += 2 {
		c.Changes = append(c.Changes, module.ParamValue{Path: pv[i], Value: json.RawMessage(pv[i+1])})
	}
	return codec.MustMarshal(c)
}

func TestSetParamsHandler(t *testing.T) {
	for _, c := range []struct {
		name      string
		withAdmin bool
		sender    address.Address
		body      []byte
		want      error // nil: accepted
		after     string
	}{
		{"admin changes two", true, admin, change("limit", "20", "group.rate", `"0.7"`), nil, `{"limit":20,"group":{"rate":"0.7"},"period":60}`},
		{"governance changes one", false, authority.Gov, change("limit", "30"), nil, `{"limit":30,"group":{"rate":"0.5"},"period":60}`},
		{"stranger", true, stranger, change("limit", "20"), errAuth, ""},
		{"former admin without one", false, admin, change("limit", "20"), errAuth, ""},
		{"fixed param", true, admin, change("period", "120"), errParams, ""},
		{"unknown path", true, admin, change("nope", "1"), errParams, ""},
		{"group as a param", true, admin, change("group", `{"rate":"1"}`), errParams, ""},
		{"out of range", true, admin, change("limit", "101"), errParams, ""},
		{"wrong type", true, admin, change("limit", `"20"`), errParams, ""},
		{"negative into unsigned", true, admin, change("limit", "-1"), errParams, ""},
		{"twice", true, admin, change("limit", "20", "limit", "21"), errParams, ""},
		{"nothing", true, admin, change(), errParams, ""},
		{"trailing data in a value", true, admin, change("limit", "20 21"), errParams, ""},
		{"malformed body", true, admin, []byte{0x80}, errInvalid, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := toyChain(c.withAdmin)
			before, _ := s.Get(toyKey)
			ctx := &module.Context{Store: s, Sender: c.sender}
			err := toySetParams.Handle(ctx, c.body)
			got, _ := s.Get(toyKey)
			switch {
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("%v, want %v", err, c.want)
			case c.want != nil && string(got) != string(before):
				t.Fatalf("refused, yet the params became %s", got)
			case c.want == nil && err != nil:
				t.Fatal(err)
			case c.want == nil && (string(got) != c.after || len(ctx.Events()) != 1):
				t.Fatalf("params %s with %d events, want %s and one event", got, len(ctx.Events()), c.after)
			}
		})
	}
}

// FuzzSetParams: any body either changes the params to ones that pass
// the module's Validate, or is refused with one of the module's own
// kinds, leaving them as they were; never a panic.
func FuzzSetParams(f *testing.F) {
	for _, seed := range [][]byte{change("limit", "20"), change("group.rate", `"1"`, "limit", "5"), change("period", "1"), {0x80}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := toyChain(true)
		before, _ := s.Get(toyKey)
		ctx := &module.Context{Store: s, Sender: admin}
		err := toySetParams.Handle(ctx, body)
		got, _ := s.Get(toyKey)
		if err != nil {
			if !errors.Is(err, errInvalid) && !errors.Is(err, errParams) {
				t.Fatalf("refused with a foreign kind: %v", err)
			}
			if string(got) != string(before) {
				t.Fatalf("refused, yet the params became %s", got)
			}
			return
		}
		var p toyParams
		if err := json.Unmarshal(got, &p); err != nil || toySetParams.Validate(ctx, p) != nil {
			t.Fatalf("accepted params %s that do not validate", got)
		}
	})
}
