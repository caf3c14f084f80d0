package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// Field is one named value of a transaction described for people: Value
// is what JSON carries, Text what a line of text shows. An empty Text
// leaves the field out of text, for a second form of a value the text
// already shows (an amount in base units next to the same in PHA).
type Field struct {
	Key   string
	Value any
	Text  string
}

// Fields are ordered: they marshal to a JSON object with the keys in the
// order given, so the JSON reads in the same order as the text.
type Fields []Field

// MarshalJSON writes the fields as one object.
func (fs Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// textField is a field JSON and text show alike.
func textField(key string, v any) Field { return Field{Key: key, Value: v, Text: fmt.Sprint(v)} }

// hexField shows bytes as hex in both forms.
func hexField(key string, b []byte) Field { return textField(key, hex.EncodeToString(b)) }

// amountFields are an amount in base units (JSON, exact) and in PHA (both).
func amountFields(key string, a token.Amount) Fields {
	return Fields{{Key: key, Value: a.String(), Text: a.PHAString()}, {Key: key + "_pha", Value: a.PHAString()}}
}

// TxDescription is a transaction decoded for display: its envelope and, for
// a method this client knows, its body. Bytes that do not decode are
// described as undecodable rather than refused, because a block may hold
// anything its proposer put there and an explorer shows it all.
type TxDescription struct {
	Hash string `json:"hash"`
	Size int    `json:"size"`
	// Undecodable says why the bytes are not a transaction; the fields
	// below are then empty.
	Undecodable string `json:"undecodable,omitempty"`
	Method      string `json:"method,omitempty"`
	Sender      string `json:"sender,omitempty"`
	SenderKey   string `json:"sender_key,omitempty"`
	ChainID     string `json:"chain_id,omitempty"`
	Nonce       uint64 `json:"nonce"`
	Fee         string `json:"fee,omitempty"`
	FeePHA      string `json:"fee_pha,omitempty"`
	GasLimit    uint64 `json:"gas_limit"`
	BodySize    int    `json:"body_size"`
	// Body holds the decoded body of a known method; nil for an unknown
	// method (BodyError empty) or a body that does not decode (BodyError
	// says why).
	Body      Fields `json:"body,omitempty"`
	BodyError string `json:"body_error,omitempty"`
}

// KnownMethod reports whether the body was decoded by a method's describer.
func (d TxDescription) KnownMethod() bool { return bodyDescribers[d.Method] != nil }

// DescribeTx decodes raw, the bytes of a transaction as a block holds
// them. It never fails and never panics: what does not decode says so.
func DescribeTx(raw []byte) TxDescription {
	h := tx.Hash(raw)
	d := TxDescription{Hash: hex.EncodeToString(h[:]), Size: len(raw)}
	s, err := decodeTx(raw)
	if err != nil {
		d.Undecodable = err.Error()
		return d
	}
	e := s.Envelope
	d.Method, d.Sender, d.SenderKey, d.ChainID = e.Method, e.SenderAddress().String(), hex.EncodeToString(e.Sender), e.ChainID
	d.Nonce, d.Fee, d.FeePHA, d.GasLimit = e.Nonce, e.Fee.String(), e.Fee.PHAString(), e.GasLimit
	d.BodySize = len(e.Body)
	if describe := bodyDescribers[e.Method]; describe != nil {
		d.Body, err = describe(e.Body)
		if err != nil {
			d.Body, d.BodyError = nil, err.Error()
		}
	}
	return d
}

// decodeTx is tx.Decode guarded against a panic in the CBOR decoder:
// describing hostile bytes must not take a display down.
func decodeTx(raw []byte) (s *tx.Signed, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("decoder panicked: %v", r)
		}
	}()
	return tx.Decode(raw)
}

// bodyDescribers decode the body of each known method into fields. A
// method missing here is shown with its body's size only.
var bodyDescribers = map[string]func([]byte) (Fields, error){
	bankapi.MethodTransfer: describeBody(func(b bankapi.Transfer) Fields {
		return append(Fields{textField("to", b.To.String())}, amountFields("amount", b.Amount)...)
	}),
	registryapi.MethodRegister: describeBody(func(b registryapi.Register) Fields {
		return Fields{textField("role", b.Role.String()), hexField("identity_key", b.IdentityKey),
			hexField("encryption_key", b.EncryptionKey), textField("anchor_height", b.AnchorHeight),
			textField("quote_size", len(b.Quote))}
	}),
	registryapi.MethodSetGatekeeper: describeBody(func(b registryapi.SetGatekeeper) Fields {
		return append(GrantFields(b.Grant), textField("allowed", b.Allowed))
	}),
	registryapi.MethodSetPolicy: describeBody(func(b registryapi.SetPolicy) Fields { return PolicyFields(b.Policy) }),
	mq.MethodSubmit: describeBody(func(b mq.SignedEgress) Fields {
		e := b.Egress
		return Fields{hexField("sender_identity", e.Sender), textField("sequence", e.Seq),
			textField("topic", e.Topic), textField("payload_size", len(e.Payload))}
	}),
	keysapi.MethodRotate: describeBody(func(keysapi.Rotate) Fields { return Fields{} }),
	keysapi.MethodCreateCluster: describeBody(func(b keysapi.CreateCluster) Fields {
		return Fields{textField("cluster", b.ID)}
	}),
	keysapi.MethodAssignWorker: describeBody(func(b keysapi.AssignWorker) Fields {
		return Fields{textField("cluster", b.Cluster), hexField("worker", b.Worker)}
	}),
	contractsapi.MethodUpload: describeBody(func(b contractsapi.Upload) Fields {
		return Fields{textField("code_hash", b.CodeHash.String()), textField("size", b.Size),
			textField("offset", b.Offset), textField("chunk_size", len(b.Chunk))}
	}),
	contractsapi.MethodInstantiate: describeBody(func(b contractsapi.Instantiate) Fields {
		return Fields{textField("code_hash", b.CodeHash.String()), textField("cluster", b.Cluster),
			hexField("salt", b.Salt), textField("init_args_size", len(b.InitArgs))}
	}),
	contractsapi.MethodCommand: describeBody(func(b contractsapi.Command) Fields {
		return append(Fields{textField("contract", b.Contract.String()), textField("generation", b.Generation),
			textField("sealed_size", len(b.Sealed)), textField("gas_limit", b.GasLimit)}, amountFields("value", b.Value)...)
	}),
}

// describeBody decodes a body of type T (strictly, as the chain does: a
// body the chain would refuse should not look valid here) and describes it.
func describeBody[T any](fields func(T) Fields) func([]byte) (Fields, error) {
	return func(raw []byte) (Fields, error) {
		var body T
		if err := codec.UnmarshalCanonical(raw, &body); err != nil {
			return nil, fmt.Errorf("body does not decode: %v", err)
		}
		return fields(body), nil
	}
}

// GrantFields name a gatekeeper grant by whichever of identity key and
// operator it gives.
func GrantFields(g registryapi.Grant) Fields {
	if !g.Operator.IsZero() {
		return Fields{textField("operator", g.Operator.String())}
	}
	return Fields{hexField("identity_key", g.IdentityKey)}
}

// PolicyFields describe an attestation policy with its JSON keys (those
// of attest.Policy). The text says what an empty field means, since the
// policy's zero values are defaults rather than "nothing".
func PolicyFields(p attest.Policy) Fields {
	noMeasurement := len(p.SGX) == 0 && len(p.TDX) == 0 && len(p.Sim) == 0
	statuses := p.AcceptedTCBStatuses
	statusText := strings.Join(statuses, ", ")
	if len(statuses) == 0 {
		statusText = strings.Join(attest.DefaultAcceptedStatuses, ", ") + " (default)"
	}
	minEval := "any"
	if p.MinTCBEvalDataNumber != 0 {
		minEval = fmt.Sprint(p.MinTCBEvalDataNumber)
	}
	age := "no limit beyond the collateral's own next update"
	if p.MaxCollateralAgeSeconds != 0 {
		age = fmt.Sprintf("%d seconds", p.MaxCollateralAgeSeconds)
	}
	return Fields{
		{Key: "sgx", Value: nonNil(p.SGX), Text: measurementsText(noMeasurement, sgxTexts(p.SGX))},
		{Key: "tdx", Value: nonNil(p.TDX), Text: measurementsText(noMeasurement, tdxTexts(p.TDX))},
		{Key: "sim", Value: nonNil(p.Sim), Text: measurementsText(noMeasurement, simTexts(p.Sim))},
		{Key: "accepted_tcb_statuses", Value: nonNil(statuses), Text: statusText},
		{Key: "min_tcb_eval_data_number", Value: p.MinTCBEvalDataNumber, Text: minEval},
		{Key: "max_collateral_age_seconds", Value: p.MaxCollateralAgeSeconds, Text: age},
		textField("require_revocation_check", p.RequireRevocationCheck),
		textField("allow_sim", p.AllowSim),
		textField("unsafe_allow_debug", p.UnsafeAllowDebug),
	}
}

// nonNil makes an absent list JSON [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// measurementsText: with no list at all any measurement passes; once one
// kind has a list, a kind without one admits nothing (attest.Policy).
func measurementsText(noMeasurement bool, entries []string) string {
	switch {
	case noMeasurement:
		return "any"
	case len(entries) == 0:
		return "none"
	}
	return strings.Join(entries, "; ")
}

func sgxTexts(ms []attest.SGXMeasurement) []string {
	var out []string
	for _, m := range ms {
		var parts []string
		if len(m.MrEnclave) > 0 {
			parts = append(parts, "mr_enclave "+hex.EncodeToString(m.MrEnclave))
		}
		if len(m.MrSigner) > 0 {
			parts = append(parts, fmt.Sprintf("mr_signer %x isv_prod_id %d min_isv_svn %d", []byte(m.MrSigner), m.IsvProdID, m.MinIsvSvn))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func tdxTexts(ms []attest.TDXMeasurement) []string {
	var out []string
	for _, m := range ms {
		parts := []string{"mr_td " + hex.EncodeToString(m.MrTd)}
		for i, r := range []attest.Hex{m.Rtmr0, m.Rtmr1, m.Rtmr2, m.Rtmr3} {
			if len(r) > 0 {
				parts = append(parts, fmt.Sprintf("rtmr%d %x", i, []byte(r)))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func simTexts(ms []attest.Hex) []string {
	var out []string
	for _, m := range ms {
		out = append(out, hex.EncodeToString(m))
	}
	return out
}

// TxOutcome is how a committed transaction fared in its block.
type TxOutcome struct {
	Height int64 `json:"height"`
	// Result is "ok", "failed", or "unknown" when the node could not say.
	Result    string `json:"result"`
	Code      uint32 `json:"code"`
	Codespace string `json:"codespace,omitempty"`
	Log       string `json:"log,omitempty"`
	GasWanted int64  `json:"gas_wanted"`
	GasUsed   int64  `json:"gas_used"`
}

// Result values of TxOutcome.
const (
	ResultOK      = "ok"
	ResultFailed  = "failed"
	ResultUnknown = "unknown"
)

// OutcomeOf reads a transaction's outcome from the node's answer.
func OutcomeOf(res *cometrpc.Tx) TxOutcome {
	r := res.TxResult
	o := TxOutcome{Height: res.Height, Result: ResultOK, Code: r.Code, Codespace: r.Codespace, Log: r.Log, GasWanted: r.GasWanted, GasUsed: r.GasUsed}
	if r.Code != 0 {
		o.Result = ResultFailed
	}
	return o
}

// Summary is the outcome in one line: "ok", or the error's module, code
// and log.
func (o TxOutcome) Summary() string {
	switch o.Result {
	case ResultOK:
		return ResultOK
	case ResultFailed:
		return fmt.Sprintf("failed (%s code %d): %s", o.Codespace, o.Code, o.Log)
	}
	if o.Log != "" {
		return ResultUnknown + ": " + o.Log
	}
	return ResultUnknown
}

// CommittedTx is a transaction described with its outcome.
type CommittedTx struct {
	TxDescription
	TxOutcome
}

// DescribeCommitted describes a transaction the node returned by hash.
func DescribeCommitted(res *cometrpc.Tx) CommittedTx {
	return CommittedTx{TxDescription: DescribeTx(res.Tx), TxOutcome: OutcomeOf(res)}
}

// BlockTxs describes a block's transactions in order, each with its
// outcome looked up by hash. A block does not carry its results; a lookup
// that fails (a node that does not index transactions) leaves that
// transaction's result unknown rather than failing the whole block.
func (c *Client) BlockTxs(ctx context.Context, b *cometrpc.BlockResult) []CommittedTx {
	out := make([]CommittedTx, len(b.Block.Txs))
	for i, raw := range b.Block.Txs {
		out[i].TxDescription = DescribeTx(raw)
		h := tx.Hash(raw)
		res, err := c.rpc.Tx(ctx, h[:])
		if err != nil {
			out[i].TxOutcome = TxOutcome{Height: b.Block.Height, Result: ResultUnknown, Log: err.Error()}
			continue
		}
		out[i].TxOutcome = OutcomeOf(res)
	}
	return out
}
