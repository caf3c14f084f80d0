package contractsapi

import (
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
)

// The decoders below read untrusted bytes (transaction bodies, published
// messages, query data) strictly, canonical CBOR only, and check their
// form; the handlers then check them against params and state. Enclaves
// may use them too.

func decode(b []byte, v any, what string) error {
	if err := codec.UnmarshalCanonical(b, v); err != nil {
		return ErrInvalid.Wrapf("%s: %v", what, err)
	}
	return nil
}

// CheckEnvelope accepts an envelope of the default suite (the suite of
// every cluster and contract key) of at most max bytes. The chain cannot
// open it; it refuses only what no worker could.
func CheckEnvelope(b []byte, max uint64) error {
	if uint64(len(b)) > max {
		return ErrEnvelope.Wrapf("%d bytes, at most %d", len(b), max)
	}
	e, err := envelope.Decode(b)
	if err != nil {
		return ErrEnvelope.Wrapf("%v", err)
	}
	if e.Suite != envelope.Default {
		return ErrEnvelope.Wrapf("suite %s, want %s", e.Suite, envelope.Default)
	}
	return nil
}

// DecodeUpload decodes a MethodUpload body: a non-empty chunk of at most
// MaxChunk bytes that lies within Size.
func DecodeUpload(b []byte) (Upload, error) {
	var u Upload
	if err := decode(b, &u, "upload body"); err != nil {
		return u, err
	}
	n := uint64(len(u.Chunk))
	switch {
	case n == 0:
		return u, ErrInvalid.Wrapf("empty chunk")
	case n > MaxChunk:
		return u, ErrInvalid.Wrapf("chunk of %d bytes, at most %d", n, MaxChunk)
	case u.Offset > u.Size || n > u.Size-u.Offset:
		return u, ErrInvalid.Wrapf("chunk [%d, %d) beyond the code's %d bytes", u.Offset, u.Offset+n, u.Size)
	}
	return u, nil
}

// DecodeInstantiate decodes a MethodInstantiate body; the init
// arguments must be an envelope (CheckEnvelope with the params' bound is
// the handler's).
func DecodeInstantiate(b []byte) (Instantiate, error) {
	var in Instantiate
	if err := decode(b, &in, "instantiate body"); err != nil {
		return in, err
	}
	if err := keysapi.CheckClusterID(in.Cluster); err != nil {
		return in, ErrInvalid.Wrapf("%v", err)
	}
	if len(in.Salt) > MaxSalt {
		return in, ErrInvalid.Wrapf("salt of %d bytes, at most %d", len(in.Salt), MaxSalt)
	}
	return in, CheckEnvelope(in.InitArgs, envelope.MaxSize)
}

// DecodeCommand decodes a MethodCommand body.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := decode(b, &c, "command body"); err != nil {
		return c, err
	}
	if c.Generation == 0 {
		return c, ErrInvalid.Wrapf("key generations start at 1")
	}
	if c.GasLimit == 0 {
		return c, ErrGasLimit.Wrapf("a command's gas limit must be positive")
	}
	return c, CheckEnvelope(c.Sealed, envelope.MaxSize)
}

// DecodeCommandPlain decodes the plaintext of a command (workers).
func DecodeCommandPlain(b []byte) (CommandPlain, error) {
	var p CommandPlain
	if err := decode(b, &p, "command plaintext"); err != nil {
		return p, err
	}
	if p.Method == "" || len(p.Method) > 128 {
		return p, ErrInvalid.Wrapf("method name of %d bytes, want 1..128", len(p.Method))
	}
	if _, err := envelope.ParsePublicKey(envelope.Default, p.ReplyKey); err != nil {
		return p, ErrInvalid.Wrapf("reply key: %v", err)
	}
	return p, nil
}

// DecodeInit decodes the plaintext of init arguments (workers).
func DecodeInit(b []byte) (Init, error) {
	var i Init
	return i, decode(b, &i, "init plaintext")
}

// DecodeCodeChunk decodes a TopicCode payload (workers).
func DecodeCodeChunk(b []byte) (CodeChunk, error) {
	var c CodeChunk
	if err := decode(b, &c, "code chunk"); err != nil {
		return c, err
	}
	n := uint64(len(c.Chunk))
	if n == 0 || n > MaxChunk || c.Offset > c.Size || n > c.Size-c.Offset {
		return c, ErrInvalid.Wrapf("chunk [%d, +%d) of %d bytes", c.Offset, n, c.Size)
	}
	return c, nil
}

// DecodeInstantiated decodes a TopicInstantiate payload (workers).
func DecodeInstantiated(b []byte) (Instantiated, error) {
	var in Instantiated
	if err := decode(b, &in, "instantiated"); err != nil {
		return in, err
	}
	if err := keysapi.CheckClusterID(in.Cluster); err != nil {
		return in, ErrInvalid.Wrapf("%v", err)
	}
	return in, CheckEnvelope(in.InitArgs, envelope.MaxSize)
}

// DecodeCommandMessage decodes a TopicCommand payload (workers).
func DecodeCommandMessage(b []byte) (CommandMessage, error) {
	var m CommandMessage
	if err := decode(b, &m, "command message"); err != nil {
		return m, err
	}
	if m.Seq == 0 || m.Generation == 0 || m.GasLimit == 0 {
		return m, ErrInvalid.Wrapf("seq %d, generation %d, gas limit %d: all must be positive", m.Seq, m.Generation, m.GasLimit)
	}
	return m, CheckEnvelope(m.Sealed, envelope.MaxSize)
}

// DecodeCode decodes a TopicCodeStored payload (workers).
func DecodeCode(b []byte) (Code, error) {
	var c Code
	if err := decode(b, &c, "code"); err != nil {
		return c, err
	}
	if c.Size == 0 {
		return c, ErrInvalid.Wrapf("empty code")
	}
	return c, nil
}

// DecodeListQuery decodes QueryContracts data; none is the first page.
func DecodeListQuery(b []byte) (ListQuery, error) {
	var q ListQuery
	if len(b) == 0 {
		return q, nil
	}
	return q, decode(b, &q, "list query")
}

// DecodeUploadQuery decodes QueryUpload data.
func DecodeUploadQuery(b []byte) (UploadQuery, error) {
	var q UploadQuery
	return q, decode(b, &q, "upload query")
}
