package module

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Governed is a module some of whose params governance may change. It
// declares which ones and their ranges; its "<name>.set_params" method
// (an Authority method) takes a ParamChange and refuses any other path or
// an out-of-range value, so a bad change fails when it is proposed.
type Governed interface {
	GovernableParams() []ParamSpec
}

// ParamSpec is one param governance may change: its path in the JSON form
// of the module's params ("answer_window", "economy.cool_down"), and its
// range in words for people (the check itself is the module's Validate).
type ParamSpec struct {
	Path  string `json:"path"`
	Range string `json:"range"`
}

// ParamChange is the body of every "<module>.set_params": new values for
// some params, each written as the module's params query prints it in
// JSON.
type ParamChange struct {
	_       struct{}     `cbor:",toarray"`
	Changes []ParamValue `json:"changes"`
}

// ParamValue is one param's new value.
type ParamValue struct {
	_     struct{}        `cbor:",toarray"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// MaxParamChanges bounds one ParamChange.
const MaxParamChanges = 64

// ApplyParamChange returns current with c's values written in: each path
// must be governable and named once, each value must decode strictly
// into the param's type, and the result must pass validate. current is
// left as it was. The error says which path and why, for the module to
// wrap in its own code.
func ApplyParamChange[T any](current T, governable []ParamSpec, c ParamChange, validate func(T) error) (T, error) {
	var zero T
	if len(c.Changes) == 0 {
		return zero, fmt.Errorf("no change")
	}
	if len(c.Changes) > MaxParamChanges {
		return zero, fmt.Errorf("%d changes, at most %d", len(c.Changes), MaxParamChanges)
	}
	allowed := map[string]bool{}
	for _, p := range governable {
		allowed[p.Path] = true
	}
	raw, err := json.Marshal(current)
	if err != nil {
		return zero, fmt.Errorf("current params: %w", err)
	}
	var tree map[string]any
	if err := decodeJSON(raw, &tree); err != nil {
		return zero, fmt.Errorf("current params: %w", err)
	}
	seen := map[string]bool{}
	for _, ch := range c.Changes {
		if !allowed[ch.Path] {
			return zero, fmt.Errorf("%q is not a param governance may change (governable: %s)", ch.Path, specPaths(governable))
		}
		if seen[ch.Path] {
			return zero, fmt.Errorf("%q changed twice", ch.Path)
		}
		seen[ch.Path] = true
		var v any
		if err := decodeJSON(ch.Value, &v); err != nil {
			return zero, fmt.Errorf("%s: value %s: %w", ch.Path, ch.Value, err)
		}
		if err := setPath(tree, strings.Split(ch.Path, "."), v); err != nil {
			return zero, fmt.Errorf("%s: %w", ch.Path, err)
		}
	}
	merged, err := json.Marshal(tree)
	if err != nil {
		return zero, err
	}
	var next T
	if err := decodeJSON(merged, &next); err != nil {
		return zero, fmt.Errorf("new params: %w", err)
	}
	if err := validate(next); err != nil {
		return zero, err
	}
	return next, nil
}

// decodeJSON decodes one JSON value strictly: no unknown fields, numbers
// kept exact, nothing after the value.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the value")
	}
	return nil
}

// setPath replaces an existing entry of a decoded JSON object tree.
func setPath(tree map[string]any, path []string, v any) error {
	for i, name := range path {
		old, ok := tree[name]
		if !ok {
			return fmt.Errorf("no param %q", strings.Join(path[:i+1], "."))
		}
		if i == len(path)-1 {
			tree[name] = v
			return nil
		}
		next, ok := old.(map[string]any)
		if !ok {
			return fmt.Errorf("%q is not a group of params", strings.Join(path[:i+1], "."))
		}
		tree = next
	}
	return fmt.Errorf("empty path")
}

func specPaths(specs []ParamSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Path
	}
	return strings.Join(names, ", ")
}
