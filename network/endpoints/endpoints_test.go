package endpoints

import (
	"errors"
	"os"
	"reflect"
	"testing"
)

func TestWriteReadRemove(t *testing.T) {
	home := t.TempDir()
	if _, err := Read(home); !errors.Is(err, ErrNone) {
		t.Fatalf("empty home: %v, want ErrNone", err)
	}
	want := File{ChainID: "phala-devnet", RPC: "http://127.0.0.1:26657", Workers: []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, PID: 42}
	if err := Write(home, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(home)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read %+v (%v), want %+v", got, err, want)
	}
	// A node without TEE nodes records no workers, as an empty list.
	if err := Write(home, File{ChainID: "c", RPC: "http://127.0.0.1:3"}); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(home); err != nil || got.Workers == nil || len(got.Workers) != 0 {
		t.Fatalf("no workers read as %+v (%v)", got, err)
	}
	if err := Remove(home); err != nil {
		t.Fatal(err)
	}
	if err := Remove(home); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	if _, err := Read(home); !errors.Is(err, ErrNone) {
		t.Fatalf("after remove: %v, want ErrNone", err)
	}
}

func TestReadRefusesDamagedRecords(t *testing.T) {
	for name, text := range map[string]string{
		"not json": "{",
		"no rpc":   `{"chain_id":"c","workers":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			if err := os.WriteFile(Path(home), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(home); err == nil || errors.Is(err, ErrNone) {
				t.Fatalf("read %q: %v, want a damage error", text, err)
			}
		})
	}
}
