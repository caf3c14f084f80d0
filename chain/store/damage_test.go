package store

import (
	"errors"
	"strings"
	"testing"
)

// TestFatalEndsCleanly: pebble's fatal hook ends the process with the
// store's path and the remedy instead of a panic and a stack dump.
func TestFatalEndsCleanly(t *testing.T) {
	var got error
	defer func(f func(error)) { exitOnDamage = f }(exitOnDamage)
	exitOnDamage = func(err error) { got = err }
	quietLogger{dir: "/x/app"}.Fatalf("bad table %d", 7)
	if !errors.Is(got, ErrDamaged) || !strings.Contains(got.Error(), "/x/app is damaged: bad table 7") || !strings.Contains(got.Error(), "restore") {
		t.Fatalf("got %v", got)
	}
}
