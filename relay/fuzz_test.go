package relay

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

func FuzzDecodeDigest(f *testing.F) {
	f.Add(codec.MustMarshal(mq.Block{Height: 5}), int64(5))
	f.Add(codec.MustMarshal(mq.Block{Height: 7, StateRoot: bytes.Repeat([]byte{1}, 32), Messages: []mq.Message{{Topic: "t", Payload: []byte{1}}}}), int64(7))
	f.Add(codec.MustMarshal(mq.Block{Height: 7, StateRoot: []byte{1}}), int64(7))
	f.Add([]byte{0x83, 0x01, 0xf6, 0x80}, int64(1))
	f.Add([]byte{}, int64(0))
	f.Fuzz(func(t *testing.T, raw []byte, height int64) {
		d, err := decodeDigest(raw, height)
		if err != nil {
			if !errors.Is(err, ErrNodeAnswer) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		// What the relay passes on must be usable by the app-hash formula.
		if d.Height != height {
			t.Fatalf("digest of %d accepted for %d", d.Height, height)
		}
		if _, err := d.AppHash("chain", make([]byte, 32)); err != nil {
			t.Fatalf("accepted digest fails the app hash: %v", err)
		}
		if _, err := codec.Marshal(d); err != nil {
			t.Fatalf("accepted digest does not encode: %v", err)
		}
	})
}

func FuzzDecodeRuntimeAnswer(f *testing.F) {
	f.Add(200, codec.MustMarshal(relaywire.Status{Version: 1, ChainID: "c", Height: 3}))
	f.Add(200, codec.MustMarshal(relaywire.Outbox{Version: 1}))
	f.Add(422, codec.MustMarshal(relaywire.Error{Module: "lightclient", Code: 3, Message: "bad commit"}))
	f.Add(500, []byte("oops"))
	f.Add(400, codec.MustMarshal(relaywire.Error{Module: "x"}))
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		var st relaywire.Status
		err := decodeAnswer(status, "/v1/status", raw, &st)
		switch {
		case err == nil:
			if status != http.StatusOK {
				t.Fatalf("HTTP %d taken as success", status)
			}
		case errors.Is(err, ErrRuntimeAnswer):
		default:
			if r, ok := refusal(err); !ok || r.Code == 0 || status == http.StatusOK {
				t.Fatalf("HTTP %d: error of another kind: %v", status, err)
			}
		}
	})
}
