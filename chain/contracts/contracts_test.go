package contracts_test

import (
	"bytes"
	"context"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// net is a chain with a gatekeeper (operated by bob), master generation 1
// and the cluster "default" with its public key recorded (the secret half
// in clusterKey, so tests open what clients seal).
type net struct {
	*apptest.Chain
	gk         apptest.TEENode
	clusterKey hpke.PrivateKey
}

func newNet(t *testing.T, opts ...apptest.Option) *net {
	t.Helper()
	h := apptest.New(t, opts...)
	h.Block()
	h.MustSucceed(h.Tx(apptest.Alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: apptest.Bob.Addr}, Allowed: true}))
	n := &net{Chain: h, gk: h.Register(apptest.Bob, registryapi.RoleGatekeeper)}
	n.accept(keysapi.TopicMasterPublic, keysapi.MasterPublic{Generation: 1, PublicKey: apptest.NewEncryptionKey(t)})
	h.MustSucceed(h.Tx(apptest.Alice, keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "default"}))
	var err error
	if n.clusterKey, err = envelope.GenerateKey(envelope.Default); err != nil {
		t.Fatal(err)
	}
	n.accept(keysapi.TopicClusterPublic, keysapi.ClusterPublic{Cluster: "default", Generation: 1, PublicKey: n.clusterKey.PublicKey().Bytes()})
	return n
}

// accept has the gatekeeper send payload on topic and requires the keys
// module to apply it.
func (n *net) accept(topic string, payload any) {
	n.T.Helper()
	msg := apptest.Egress(n.gk, n.EgressSeq(n.gk)+1, topic, codec.MustMarshal(payload))
	if r := n.Block(n.Submit(apptest.Alice, msg)).TxResults[0]; r.Code != 0 || !apptest.HasEvent(r.Events, mq.EventAccepted) {
		n.T.Fatalf("%s not accepted: %s %v", topic, r.Log, r.Events)
	}
}

// chunks cuts code into upload bodies of size bytes, claiming hash.
func chunks(code []byte, hash contractsapi.Hash, size int) []contractsapi.Upload {
	var out []contractsapi.Upload
	for off := 0; off < len(code); off += size {
		end := min(off+size, len(code))
		out = append(out, contractsapi.Upload{CodeHash: hash, Size: uint64(len(code)), Offset: uint64(off), Chunk: code[off:end]})
	}
	return out
}

func testCode(n int, seed byte) ([]byte, contractsapi.Hash) {
	code := make([]byte, n)
	for i := range code {
		code[i] = byte(i*7) ^ seed
	}
	return code, sha256.Sum256(code)
}

// upload sends every chunk of code from from, each in a block of its own.
func (n *net) upload(from apptest.Account, code []byte) contractsapi.Hash {
	n.T.Helper()
	h := contractsapi.Hash(sha256.Sum256(code))
	for _, u := range chunks(code, h, 1000) {
		n.MustSucceed(n.Tx(from, contractsapi.MethodUpload, u))
	}
	return h
}

func (n *net) sealInit(id contractsapi.Hash, args string) []byte {
	n.T.Helper()
	env, err := envelope.Seal(apptest.ChainID, envelope.Command, n.clusterKey.PublicKey(), codec.MustMarshal(contractsapi.Init{Args: []byte(args)}), contractsapi.InitAAD(id))
	if err != nil {
		n.T.Fatal(err)
	}
	return env
}

// instantiate creates a contract of code from alice with salt.
func (n *net) instantiate(code contractsapi.Hash, salt string) contractsapi.Hash {
	n.T.Helper()
	id := contractsapi.ContractID(apptest.ChainID, apptest.Alice.Addr, code, "default", []byte(salt))
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodInstantiate, contractsapi.Instantiate{CodeHash: code, Cluster: "default", Salt: []byte(salt), InitArgs: n.sealInit(id, "{}")}))
	return id
}

// recordKey has the gatekeeper publish the contract's key of generation 1.
func (n *net) recordKey(id contractsapi.Hash) hpke.PrivateKey {
	n.T.Helper()
	k, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		n.T.Fatal(err)
	}
	n.accept(keysapi.TopicContractPublic, keysapi.ContractPublic{Cluster: "default", Contract: id[:], Generation: 1, PublicKey: k.PublicKey().Bytes()})
	return k
}

func (n *net) params() contractsapi.Params {
	n.T.Helper()
	var p contractsapi.Params
	if err := n.Query(contractsapi.QueryParams, nil, &p); err != nil {
		n.T.Fatal(err)
	}
	return p
}

func balance(n *net, a address.Address) token.Amount { return n.Account(a).Balance }

func mustSub(t *testing.T, a, b token.Amount) token.Amount {
	t.Helper()
	d, err := a.Sub(b)
	if err != nil {
		t.Fatalf("%s - %s: %v", a, b, err)
	}
	return d
}

func mustMul(t *testing.T, a token.Amount, n uint64) token.Amount {
	t.Helper()
	d, err := a.MulUint64(n)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestUploadInOneBlock: a code's chunks at consecutive nonces in one block
// store it, publish every chunk in order and then the record, charge the
// per-byte fee on top of the transactions' fees, and leave no upload
// under way.
func TestUploadInOneBlock(t *testing.T) {
	n := newNet(t)
	code, h := testCode(2500, 1)
	parts := chunks(code, h, 1000)
	nonce := n.Account(apptest.Carol.Addr).Nonce
	var txs [][]byte
	for i, u := range parts {
		txs = append(txs, n.Signed(apptest.Carol, nonce+uint64(i), contractsapi.MethodUpload, u))
	}
	before, treasury := balance(n, apptest.Carol.Addr), balance(n, bankapi.Treasury)
	for i, r := range n.Block(txs...).TxResults {
		if r.Code != 0 {
			t.Fatalf("chunk %d: %s", i, r.Log)
		}
	}
	var c contractsapi.Code
	if err := n.Query(contractsapi.QueryCode, h[:], &c); err != nil || c.Hash != h || c.Size != 2500 || c.Uploader != apptest.Carol.Addr || c.Height != n.Height {
		t.Fatalf("code %+v (%v)", c, err)
	}
	msgs, err := n.App.Messages(n.Height)
	if err != nil {
		t.Fatal(err)
	}
	var assembled []byte
	var topics []string
	for _, m := range msgs {
		topics = append(topics, m.Topic)
		if m.Topic == contractsapi.TopicCode {
			ch, err := contractsapi.DecodeCodeChunk(m.Payload)
			if err != nil || ch.Offset != uint64(len(assembled)) || ch.Uploader != apptest.Carol.Addr {
				t.Fatalf("chunk message %+v (%v)", ch, err)
			}
			assembled = append(assembled, ch.Chunk...)
		}
	}
	if want := []string{contractsapi.TopicCode, contractsapi.TopicCode, contractsapi.TopicCode, contractsapi.TopicCodeStored}; !slices.Equal(topics, want) {
		t.Fatalf("topics %v, want %v", topics, want)
	}
	if !bytes.Equal(assembled, code) {
		t.Fatal("the published chunks do not assemble to the code")
	}
	fees := mustMul(t, token.PHA(1), 3) // apptest's transaction fee, three times
	uploadFee := mustMul(t, n.params().UploadByteFee, 2500)
	want, _ := fees.Add(uploadFee)
	if paid := mustSub(t, before, balance(n, apptest.Carol.Addr)); paid != want {
		t.Fatalf("paid %s, want %s (fees) + %s (upload)", paid.PHAString(), fees.PHAString(), uploadFee.PHAString())
	}
	if got := mustSub(t, balance(n, bankapi.Treasury), treasury); got != want {
		t.Fatalf("treasury received %s, want %s", got.PHAString(), want.PHAString())
	}
	if err := n.Query(contractsapi.QueryUpload, codec.MustMarshal(contractsapi.UploadQuery{Uploader: apptest.Carol.Addr, CodeHash: h}), &contractsapi.PendingUpload{}); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("the finished upload is still under way: %v", err)
	}
}

// TestUploadRefusals: chunks out of order, a wrong hash at the end, too
// large, a changed size and a code already stored are refused after the
// charge, and change nothing else.
func TestUploadRefusals(t *testing.T) {
	code, h := testCode(2500, 2)
	parts := chunks(code, h, 1000)
	wrong := contractsapi.Hash(sha256.Sum256([]byte("other")))
	wrongParts := chunks(code, wrong, 1000)
	tests := []struct {
		name  string
		setup func(n *net) // uploads that succeed
		from  apptest.Account
		body  contractsapi.Upload
		want  error
	}{
		{"a later chunk first", nil, apptest.Alice, parts[1], contractsapi.ErrUploadOrder},
		{"a chunk skipped", func(n *net) { n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0])) }, apptest.Alice, parts[2], contractsapi.ErrUploadOrder},
		{"a chunk again", func(n *net) {
			n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0]))
			n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[1]))
		}, apptest.Alice, parts[1], contractsapi.ErrUploadOrder},
		{"another uploader's upload", func(n *net) { n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0])) }, apptest.Bob, parts[1], contractsapi.ErrUploadOrder},
		{"the size changed", func(n *net) { n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0])) }, apptest.Alice, func() contractsapi.Upload {
			u := parts[1]
			u.Size++
			return u
		}(), contractsapi.ErrUploadOrder},
		{"a wrong hash at the end", func(n *net) {
			n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, wrongParts[0]))
			n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, wrongParts[1]))
		}, apptest.Alice, wrongParts[2], contractsapi.ErrCodeHash},
		{"too large", nil, apptest.Alice, contractsapi.Upload{CodeHash: h, Size: 16<<20 + 1, Chunk: code}, contractsapi.ErrCodeTooLarge},
		{"a code already stored", func(n *net) { n.upload(apptest.Alice, code) }, apptest.Alice, parts[0], contractsapi.ErrCodeExists},
		{"a code already stored, by another uploader", func(n *net) { n.upload(apptest.Alice, code) }, apptest.Bob, parts[0], contractsapi.ErrCodeExists},
		{"an empty chunk", nil, apptest.Alice, contractsapi.Upload{CodeHash: h, Size: 3}, contractsapi.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t)
			if tc.setup != nil {
				tc.setup(n)
			}
			_, r := n.MustRefuseCharged(n.Tx(tc.from, contractsapi.MethodUpload, tc.body), tc.want)
			t.Logf("refused: %s", r.Log)
		})
	}
}

// TestUploadRestart: after a refused last chunk the upload stays where it
// was; a chunk at offset 0 starts it again, and a right code completes.
func TestUploadRestart(t *testing.T) {
	n := newNet(t)
	code, h := testCode(2500, 3)
	parts := chunks(code, h, 1000)
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0]))
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[1]))
	bad := parts[2]
	bad.Chunk = bytes.Repeat([]byte{9}, len(bad.Chunk))
	n.MustRefuseCharged(n.Tx(apptest.Alice, contractsapi.MethodUpload, bad), contractsapi.ErrCodeHash)
	var up contractsapi.PendingUpload
	q := codec.MustMarshal(contractsapi.UploadQuery{Uploader: apptest.Alice.Addr, CodeHash: h})
	if err := n.Query(contractsapi.QueryUpload, q, &up); err != nil || up.Received != 2000 || up.Size != 2500 {
		t.Fatalf("upload after the refused chunk: %+v (%v)", up, err)
	}
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0]))
	if err := n.Query(contractsapi.QueryUpload, q, &up); err != nil || up.Received != 1000 || up.Started != n.Height {
		t.Fatalf("restarted upload: %+v (%v)", up, err)
	}
	if got := n.Published(contractsapi.TopicCode); len(got) != 1 {
		t.Fatal("the restart was not published for enclaves")
	}
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[1]))
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[2]))
	if got := n.Published(contractsapi.TopicCodeStored); len(got) != 1 {
		t.Fatal("the completed code was not published")
	}
}

// TestInstantiate: a contract is recorded, its account opened, its
// instantiation (with the sealed init arguments) published for workers,
// and its key asked of the gatekeepers, in one block.
func TestInstantiate(t *testing.T) {
	n := newNet(t)
	code, _ := testCode(100, 4)
	h := n.upload(apptest.Alice, code)
	id := contractsapi.ContractID(apptest.ChainID, apptest.Alice.Addr, h, "default", []byte("s1"))
	init := n.sealInit(id, `{"supply":100}`)
	r := n.Block(n.Tx(apptest.Alice, contractsapi.MethodInstantiate, contractsapi.Instantiate{CodeHash: h, Cluster: "default", Salt: []byte("s1"), InitArgs: init})).TxResults[0]
	if r.Code != 0 || !apptest.HasEvent(r.Events, contractsapi.EventInstantiated) || !apptest.HasEvent(r.Events, "contract_key_requested") {
		t.Fatalf("instantiate: %s %v", r.Log, r.Events)
	}
	var c contractsapi.Contract
	if err := n.Query(contractsapi.QueryContract, id[:], &c); err != nil || c.ID != id || c.CodeHash != h || c.Cluster != "default" || c.Deployer != apptest.Alice.Addr || c.Height != n.Height {
		t.Fatalf("contract %+v (%v)", c, err)
	}
	var topics []string
	msgs, _ := n.App.Messages(n.Height)
	for _, m := range msgs {
		topics = append(topics, m.Topic)
	}
	if want := []string{contractsapi.TopicInstantiate, keysapi.TopicContract}; !slices.Equal(topics, want) {
		t.Fatalf("topics %v, want %v", topics, want)
	}
	in, err := contractsapi.DecodeInstantiated(msgs[0].Payload)
	if err != nil || in.Contract != id || in.CodeHash != h || in.Deployer != apptest.Alice.Addr || !bytes.Equal(in.InitArgs, init) {
		t.Fatalf("instantiation message %+v (%v)", in, err)
	}
	// What the workers will do: open the init arguments with the cluster
	// key, bound to the contract id.
	plain, err := envelope.Open(apptest.ChainID, envelope.Command, n.clusterKey, in.InitArgs, contractsapi.InitAAD(id))
	if err != nil {
		t.Fatal(err)
	}
	if args, err := contractsapi.DecodeInit(plain); err != nil || string(args.Args) != `{"supply":100}` {
		t.Fatalf("init %q (%v)", args.Args, err)
	}
	var ev keysapi.ContractEvent
	if err := codec.Unmarshal(msgs[1].Payload, &ev); err != nil || ev.Cluster != "default" || !bytes.Equal(ev.Contract, id[:]) {
		t.Fatalf("key request %+v (%v)", ev, err)
	}
	if acc := n.Account(contractsapi.ContractAccount(id)); !acc.Balance.IsZero() {
		t.Fatalf("contract account %+v", acc)
	}
	// The keys module now takes the contract's key from the gatekeepers.
	n.recordKey(id)
	var pubs []keysapi.ContractPublic
	if err := n.Query(keysapi.QueryContract, codec.MustMarshal(keysapi.ContractQuery{Cluster: "default", Contract: id[:]}), &pubs); err != nil || len(pubs) != 1 {
		t.Fatalf("contract key %+v (%v)", pubs, err)
	}
	// Lists and pages.
	other := n.instantiate(h, "s2")
	var all contractsapi.ContractList
	if err := n.Query(contractsapi.QueryContracts, nil, &all); err != nil || len(all.Contracts) != 2 || all.More {
		t.Fatalf("list %+v (%v)", all, err)
	}
	first := id
	if bytes.Compare(other[:], id[:]) < 0 {
		first = other
	}
	var page contractsapi.ContractList
	if err := n.Query(contractsapi.QueryContracts, codec.MustMarshal(contractsapi.ListQuery{Limit: 1}), &page); err != nil || len(page.Contracts) != 1 || !page.More || page.Contracts[0].ID != first {
		t.Fatalf("first page %+v (%v)", page, err)
	}
	if err := n.Query(contractsapi.QueryContracts, codec.MustMarshal(contractsapi.ListQuery{After: first, Limit: 1}), &page); err != nil || len(page.Contracts) != 1 || page.More || page.Contracts[0].ID == first {
		t.Fatalf("second page %+v (%v)", page, err)
	}
}

func TestInstantiateRefusals(t *testing.T) {
	code, h := testCode(100, 5)
	init := func(n *net) []byte { return n.sealInit(contractsapi.Hash{}, "{}") }
	tests := []struct {
		name  string
		setup func(n *net)
		body  func(n *net) contractsapi.Instantiate
		want  error
	}{
		{"unknown code", nil, func(n *net) contractsapi.Instantiate {
			return contractsapi.Instantiate{CodeHash: h, Cluster: "default", InitArgs: init(n)}
		}, contractsapi.ErrUnknownCode},
		{"code still uploading", func(n *net) {
			n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, chunks(code, h, 60)[0]))
		}, func(n *net) contractsapi.Instantiate {
			return contractsapi.Instantiate{CodeHash: h, Cluster: "default", InitArgs: init(n)}
		}, contractsapi.ErrUnknownCode},
		{"unknown cluster", func(n *net) { n.upload(apptest.Alice, code) }, func(n *net) contractsapi.Instantiate {
			return contractsapi.Instantiate{CodeHash: h, Cluster: "nope", InitArgs: init(n)}
		}, contractsapi.ErrUnknownCluster},
		{"a cluster without its key", func(n *net) {
			n.upload(apptest.Alice, code)
			n.MustSucceed(n.Tx(apptest.Alice, keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: "bare"}))
		}, func(n *net) contractsapi.Instantiate {
			return contractsapi.Instantiate{CodeHash: h, Cluster: "bare", InitArgs: init(n)}
		}, contractsapi.ErrUnknownCluster},
		{"duplicate", func(n *net) {
			n.upload(apptest.Alice, code)
			n.instantiate(h, "same")
		}, func(n *net) contractsapi.Instantiate {
			return contractsapi.Instantiate{CodeHash: h, Cluster: "default", Salt: []byte("same"), InitArgs: init(n)}
		}, contractsapi.ErrContractExists},
		{"init arguments in the clear", func(n *net) { n.upload(apptest.Alice, code) }, func(n *net) contractsapi.Instantiate {
			return contractsapi.Instantiate{CodeHash: h, Cluster: "default", InitArgs: []byte(`{"supply":100}`)}
		}, contractsapi.ErrEnvelope},
		{"init arguments too large", func(n *net) { n.upload(apptest.Alice, code) }, func(n *net) contractsapi.Instantiate {
			env, err := envelope.Seal(apptest.ChainID, envelope.Command, n.clusterKey.PublicKey(), make([]byte, 33<<10), nil)
			if err != nil {
				n.T.Fatal(err)
			}
			return contractsapi.Instantiate{CodeHash: h, Cluster: "default", InitArgs: env}
		}, contractsapi.ErrEnvelope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t)
			if tc.setup != nil {
				tc.setup(n)
			}
			_, r := n.MustRefuseCharged(n.Tx(apptest.Alice, contractsapi.MethodInstantiate, tc.body(n)), tc.want)
			t.Logf("refused: %s", r.Log)
		})
	}
}

// sealCommand seals a command as a client does.
func sealCommand(t *testing.T, key hpke.PublicKey, id contractsapi.Hash, sender address.Address, method string) []byte {
	t.Helper()
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	plain := codec.MustMarshal(contractsapi.CommandPlain{Method: method, Args: []byte("{}"), ReplyKey: reply.PublicKey().Bytes()})
	env, err := envelope.Seal(apptest.ChainID, envelope.Command, key, plain, contractsapi.CommandAAD(id, sender))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestCommand: commands reserve their gas into the escrow, move their
// value to the contract's account, get the chain's numbers in order and
// are published in chain order with everything a worker needs.
func TestCommand(t *testing.T) {
	n := newNet(t)
	code, _ := testCode(100, 6)
	id := n.instantiate(n.upload(apptest.Alice, code), "")
	key := n.recordKey(id)
	p := n.params()
	bobCmd := contractsapi.Command{Contract: id, Generation: 1, Sealed: sealCommand(t, key.PublicKey(), id, apptest.Bob.Addr, "transfer"), GasLimit: 2_000_000, Value: token.PHA(3)}
	carolCmd := contractsapi.Command{Contract: id, Generation: 1, Sealed: sealCommand(t, key.PublicKey(), id, apptest.Carol.Addr, "mint"), GasLimit: 500}
	bobBefore, carolBefore, escrowBefore := balance(n, apptest.Bob.Addr), balance(n, apptest.Carol.Addr), balance(n, contractsapi.Escrow)
	txs := [][]byte{n.Tx(apptest.Bob, contractsapi.MethodCommand, bobCmd), n.Tx(apptest.Carol, contractsapi.MethodCommand, carolCmd)}
	resp := n.Block(txs...)
	for i, r := range resp.TxResults {
		if r.Code != 0 || !apptest.HasEvent(r.Events, contractsapi.EventCommand) {
			t.Fatalf("command %d: %s", i, r.Log)
		}
	}
	bobReserve, carolReserve := mustMul(t, p.GasPrice, 2_000_000), mustMul(t, p.GasPrice, 500)
	wantBob, _ := token.PHA(1).Add(bobReserve)
	wantBob, _ = wantBob.Add(token.PHA(3))
	if paid := mustSub(t, bobBefore, balance(n, apptest.Bob.Addr)); paid != wantBob {
		t.Fatalf("bob paid %s, want %s", paid.PHAString(), wantBob.PHAString())
	}
	wantCarol, _ := token.PHA(1).Add(carolReserve)
	if paid := mustSub(t, carolBefore, balance(n, apptest.Carol.Addr)); paid != wantCarol {
		t.Fatalf("carol paid %s, want %s", paid.PHAString(), wantCarol.PHAString())
	}
	wantEscrow, _ := bobReserve.Add(carolReserve)
	if got := mustSub(t, balance(n, contractsapi.Escrow), escrowBefore); got != wantEscrow {
		t.Fatalf("escrow received %s, want %s", got.PHAString(), wantEscrow.PHAString())
	}
	if got := balance(n, contractsapi.ContractAccount(id)); got != token.PHA(3) {
		t.Fatalf("contract account holds %s", got.PHAString())
	}
	msgs := n.Published(contractsapi.TopicCommand)
	if len(msgs) != 2 {
		t.Fatalf("%d command messages", len(msgs))
	}
	for i, want := range []struct {
		sender address.Address
		body   contractsapi.Command
		method string
	}{{apptest.Bob.Addr, bobCmd, "transfer"}, {apptest.Carol.Addr, carolCmd, "mint"}} {
		m, err := contractsapi.DecodeCommandMessage(msgs[i])
		if err != nil || m.Seq != uint64(i+1) || m.Contract != id || m.Sender != want.sender || m.Generation != 1 ||
			!bytes.Equal(m.Sealed, want.body.Sealed) || m.GasLimit != want.body.GasLimit || m.Value != want.body.Value ||
			m.TxHash != sha256.Sum256(txs[i]) {
			t.Fatalf("message %d: %+v (%v)", i, m, err)
		}
		// What a worker will do: open it with the contract key, bound to
		// the contract and the sender.
		plain, err := envelope.Open(apptest.ChainID, envelope.Command, key, m.Sealed, contractsapi.CommandAAD(m.Contract, m.Sender))
		if err != nil {
			t.Fatalf("message %d does not open: %v", i, err)
		}
		if cp, err := contractsapi.DecodeCommandPlain(plain); err != nil || cp.Method != want.method {
			t.Fatalf("plaintext %+v (%v)", cp, err)
		}
	}
	// The numbering goes on across blocks.
	n.MustSucceed(n.Tx(apptest.Bob, contractsapi.MethodCommand, bobCmd))
	if m, err := contractsapi.DecodeCommandMessage(n.Published(contractsapi.TopicCommand)[0]); err != nil || m.Seq != 3 {
		t.Fatalf("third command %+v (%v)", m, err)
	}
}

func TestCommandRefusals(t *testing.T) {
	code, _ := testCode(100, 7)
	dave := apptest.Dev("dave")
	// deployed: a contract whose key is not recorded yet.
	deployed := func(n *net) contractsapi.Hash { return n.instantiate(n.upload(apptest.Alice, code), "") }
	var contractKey hpke.PrivateKey
	keyed := func(n *net) contractsapi.Hash {
		id := deployed(n)
		contractKey = n.recordKey(id)
		return id
	}
	cmd := func(id contractsapi.Hash, from address.Address, gas uint64, value token.Amount) contractsapi.Command {
		pub := contractKey.PublicKey()
		return contractsapi.Command{Contract: id, Generation: 1, Sealed: sealCommand(t, pub, id, from, "m"), GasLimit: gas, Value: value}
	}
	if k, err := envelope.GenerateKey(envelope.Default); err != nil {
		t.Fatal(err)
	} else {
		contractKey = k
	}
	tests := []struct {
		name string
		from apptest.Account
		body func(n *net) contractsapi.Command
		want error
	}{
		{"unknown contract", apptest.Bob, func(n *net) contractsapi.Command {
			return cmd(contractsapi.Hash{9}, apptest.Bob.Addr, 100, token.Amount{})
		}, contractsapi.ErrUnknownContract},
		{"no public key yet", apptest.Bob, func(n *net) contractsapi.Command {
			return cmd(deployed(n), apptest.Bob.Addr, 100, token.Amount{})
		}, contractsapi.ErrNoContractKey},
		{"an unknown key generation", apptest.Bob, func(n *net) contractsapi.Command {
			c := cmd(keyed(n), apptest.Bob.Addr, 100, token.Amount{})
			c.Generation = 2
			return c
		}, contractsapi.ErrNoContractKey},
		{"gas over the limit", apptest.Bob, func(n *net) contractsapi.Command {
			return cmd(keyed(n), apptest.Bob.Addr, n.params().MaxGasLimit+1, token.Amount{})
		}, contractsapi.ErrGasLimit},
		{"zero gas", apptest.Bob, func(n *net) contractsapi.Command {
			return cmd(keyed(n), apptest.Bob.Addr, 0, token.Amount{})
		}, contractsapi.ErrGasLimit},
		{"not sealed", apptest.Bob, func(n *net) contractsapi.Command {
			c := cmd(keyed(n), apptest.Bob.Addr, 100, token.Amount{})
			c.Sealed = []byte("transfer 10 to carol")
			return c
		}, contractsapi.ErrEnvelope},
		{"a reserve the sender cannot pay", dave, func(n *net) contractsapi.Command {
			n.MustSucceed(n.Tx(apptest.Alice, bankapi.MethodTransfer, bankapi.Transfer{To: dave.Addr, Amount: token.PHA(2)}))
			return cmd(keyed(n), dave.Addr, n.params().MaxGasLimit, token.Amount{})
		}, bankapi.ErrInsufficientFunds},
		{"a value the sender cannot pay", dave, func(n *net) contractsapi.Command {
			n.MustSucceed(n.Tx(apptest.Alice, bankapi.MethodTransfer, bankapi.Transfer{To: dave.Addr, Amount: token.PHA(2)}))
			return cmd(keyed(n), dave.Addr, 100, token.PHA(5))
		}, bankapi.ErrInsufficientFunds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t)
			body := tc.body(n)
			_, r := n.MustRefuseCharged(n.Tx(tc.from, contractsapi.MethodCommand, body), tc.want)
			t.Logf("refused: %s", r.Log)
		})
	}
}

// TestGenesisOpensEscrow: the escrow exists from genesis with nothing in
// it, so reserves below the bank's minimum balance land.
func TestGenesisOpensEscrow(t *testing.T) {
	n := newNet(t)
	var info bankapi.AccountInfo
	if err := n.Query(bankapi.QueryAccount, contractsapi.Escrow[:], &info); err != nil || !info.Exists || !info.Balance.IsZero() {
		t.Fatalf("escrow %+v (%v)", info, err)
	}
	if p := n.params(); p != contractsapi.DefaultParams() {
		t.Fatalf("params %+v", p)
	}
}

// TestGenesisSection: the section is read strictly and its params
// validated before anything is written.
func TestGenesisSection(t *testing.T) {
	for name, section := range map[string]string{
		"an unknown field":   `{"params":{"upload_byte_fee":"1","max_code_size":1,"gas_price":"1","max_gas_limit":1,"max_sealed_size":1},"extra":1}`,
		"no code size":       `{"params":{"upload_byte_fee":"1","max_code_size":0,"gas_price":"1","max_gas_limit":1,"max_sealed_size":1}}`,
		"a reserve overflow": `{"params":{"upload_byte_fee":"1","max_code_size":1,"gas_price":"340282366920938463463374607431768211455","max_gas_limit":2,"max_sealed_size":1}}`,
		"not an object":      `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			g := apptest.Genesis(t, true)
			g.Modules[contractsapi.Name] = json.RawMessage(section)
			a, err := app.New(apptest.ChainID, t.TempDir(), slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: apptest.ChainID, AppStateBytes: apptest.GenesisJSON(t, g)}); err == nil {
				t.Fatal("accepted")
			} else {
				t.Log(err)
			}
		})
	}
}
