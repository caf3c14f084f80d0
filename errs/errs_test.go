package errs

import (
	"errors"
	"testing"
)

var errTest = Register("errstest", 3, "test failure")

func TestWrapAndWireRoundTrip(t *testing.T) {
	err := errTest.Wrapf("detail %d", 42)
	if !errors.Is(err, errTest) {
		t.Fatal("wrapped error lost its kind")
	}
	module, code := Code(err)
	if module != "errstest" || code != 3 {
		t.Fatalf("Code = %s/%d", module, code)
	}
	back := FromWire(module, code, err.Error())
	if !errors.Is(back, errTest) || back.Error() != err.Error() {
		t.Fatalf("wire round trip: %v", back)
	}
	if FromWire("x", 0, "") != nil {
		t.Fatal("code 0 must be success")
	}
	if m, c := Code(errors.New("plain")); m != "internal" || c != 1 {
		t.Fatalf("plain error code %s/%d", m, c)
	}
}

func TestDuplicateRegistrationPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration accepted")
		}
	}()
	Register("errstest", 3, "again")
}
