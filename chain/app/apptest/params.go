package apptest

import (
	"encoding/json"
	"testing"

	"github.com/phala-go/phala/chain/module"
)

// Change builds the body of a "<module>.set_params" from path, value
// pairs, each value written in JSON as the params query prints it
// (json.RawMessage is taken as it is).
func Change(t testing.TB, pathValues ...any) module.ParamChange {
	t.Helper()
	if len(pathValues)%2 != 0 {
		t.Fatal("Change takes path, value pairs")
	}
	var c module.ParamChange
	for i := 0; i < len(pathValues); i += 2 {
		raw, ok := pathValues[i+1].(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(pathValues[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		c.Changes = append(c.Changes, module.ParamValue{Path: pathValues[i].(string), Value: raw})
	}
	return c
}
