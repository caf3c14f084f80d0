package authority

import (
	"errors"
	"strings"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
)

// SetParams is the one shape of every "<module>.set_params": decode a
// module.ParamChange, require the authority, write the values into the
// current params (only governable paths), check the result with the
// module's own ranges, store it and emit an event naming the paths
// changed. Each module fills in its params' accessors and error kinds.
type SetParams[T any] struct {
	// Event is the event emitted on a change (attribute "changed": the
	// paths, comma separated).
	Event string
	// Governable are the paths governance may change.
	Governable []module.ParamSpec
	// Fixed are params that may never change on a running chain, each
	// with the reason, refused before anything else is looked at.
	Fixed map[string]string
	// Get reads the params in force; Validate checks new ones (ranges,
	// and anything the module must check against state); Put stores them
	// and tells whoever must know (enclaves).
	Get      func(ctx *module.Context) (T, error)
	Validate func(ctx *module.Context, p T) error
	Put      func(ctx *module.Context, p T)
	// ErrInvalid is the module's kind for a malformed body, ErrParams for
	// an unknown, fixed or out-of-range param, ErrUnauthorized for a
	// sender without the authority.
	ErrInvalid, ErrParams, ErrUnauthorized *errs.Error
}

// Handle is the method's handler.
func (s SetParams[T]) Handle(ctx *module.Context, body []byte) error {
	var c module.ParamChange
	if err := codec.UnmarshalCanonical(body, &c); err != nil {
		return s.ErrInvalid.Wrapf("set_params body: %v", err)
	}
	if err := Require(ctx.Store, ctx.Sender, s.ErrUnauthorized); err != nil {
		return err
	}
	paths := make([]string, len(c.Changes))
	for i, ch := range c.Changes {
		if why, fixed := s.Fixed[ch.Path]; fixed {
			return s.ErrParams.Wrapf("%s cannot change on a running chain: %s", ch.Path, why)
		}
		paths[i] = ch.Path
	}
	current, err := s.Get(ctx)
	if err != nil {
		return err
	}
	next, err := module.ApplyParamChange(current, s.Governable, c, func(p T) error { return s.Validate(ctx, p) })
	if err != nil {
		var kind *errs.Error
		if errors.As(err, &kind) {
			return err // the module's own Validate already said which kind
		}
		return s.ErrParams.Wrapf("%v", err)
	}
	s.Put(ctx, next)
	ctx.Emit(s.Event, module.A("changed", strings.Join(paths, ",")))
	return nil
}
