package cometrpc

import (
	"errors"
	"testing"
)

// Answers a CometBFT v1.0.1 devnet gave, the seeds of the fuzz targets.
const (
	headerJSON  = `{"version":{"block":"11","app":"1"},"chain_id":"phala-devnet","height":"1","time":"2026-12-03T10:35:38.770785695Z","last_block_id":{"hash":"","parts":{"total":0,"hash":""}},"last_commit_hash":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855","data_hash":"406073D6B6D586CE52CA58A6A6EC0F61594C87B87A74927816F7338B92F8FD33","validators_hash":"2D77C54E02889D679713E30AA086C0DCAE1A32CB12234D05517ECD9A0BD68F13","next_validators_hash":"2D77C54E02889D679713E30AA086C0DCAE1A32CB12234D05517ECD9A0BD68F13","consensus_hash":"DB82A3E5EC7A0994F3B78B258907CFF68320368782642AA9255985A28C938678","app_hash":"6E50DD6861C721A11F2A0E58F803C4F6FD051DEC331D3804F39FF15C47F0EAF5","last_results_hash":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855","evidence_hash":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855","proposer_address":"0AAF7984E6EC976536D72D11B23B229A6B8E33EC"}`
	blockIDJSON = `{"hash":"2C9762E8188358813BC33FDCB89054C20093C58D25F7D7E21F3A45C34671349F","parts":{"total":1,"hash":"CBA89215FF2D3AAA63E96172E756B0D6AA6C319BF7AA28D28621836B57234489"}}`
	commitJSON  = `{"height":"1","round":0,"block_id":` + blockIDJSON + `,"signatures":[{"block_id_flag":2,"validator_address":"0AAF7984E6EC976536D72D11B23B229A6B8E33EC","timestamp":"2026-12-03T10:35:39.94072029Z","signature":"IJ7i2/l5YNy3H8aKtqf85lrbAVue2qoS27c8SdJe9FKXxdOVOhm6SX8VonkpPxdnW8OTkrKHDjAyW0KM+LpPDw=="},{"block_id_flag":1,"validator_address":"","timestamp":"0001-01-01T00:00:00Z","signature":null}]}`
	statusJSON  = `{"node_info":{"protocol_version":{"p2p":"9","block":"11","app":"1"},"id":"d7d4d1893100b87dc86aa1c42f04d6d2bae2031f","listen_addr":"tcp://127.0.0.1:44555","network":"phala-devnet","version":"1.0.1","channels":"40202122233038606100","moniker":"node0","other":{"tx_index":"on","rpc_address":"tcp://127.0.0.1:43689"}},"sync_info":{"latest_block_hash":"2C9762E8188358813BC33FDCB89054C20093C58D25F7D7E21F3A45C34671349F","latest_app_hash":"6E50DD6861C721A11F2A0E58F803C4F6FD051DEC331D3804F39FF15C47F0EAF5","latest_block_height":"1","latest_block_time":"2026-12-03T10:35:38.770785695Z","earliest_block_hash":"2C9762E8188358813BC33FDCB89054C20093C58D25F7D7E21F3A45C34671349F","earliest_app_hash":"6E50DD6861C721A11F2A0E58F803C4F6FD051DEC331D3804F39FF15C47F0EAF5","earliest_block_height":"1","earliest_block_time":"2026-12-03T10:35:38.770785695Z","catching_up":false},"validator_info":{"address":"0AAF7984E6EC976536D72D11B23B229A6B8E33EC","pub_key":{"type":"tendermint/PubKeyEd25519","value":"Gova/Oyz0ZLEgAN8KaBgct7K2NJJ9IOEAgmRDjk6+mk="},"voting_power":"10"}}`
	queryJSON   = `{"response":{"code":1,"log":"query/1: unknown query path","info":"","index":"0","key":null,"value":"g0Q7msoAQw9CQEUCVAvkAA==","proofOps":null,"height":"1","codespace":"query"}}`
	// provenQueryJSON is a chain/state answer with its proof (shortened).
	provenQueryJSON = `{"response":{"code":0,"log":"","info":"","index":"0","key":"AQE=","value":"gvVA","proofOps":{"ops":[{"type":"phala:state/ics23-iavl","key":"AQE=","data":"CgA="},{"type":"phala:apphash","key":null,"data":"gwE="}]},"height":"5","codespace":""}}`
	txJSON          = `{"hash":"FDBF367642279CD50E05E931EF9E986CEF0AE9BA76595C0BE6FBA3E88F12940D","height":"1","index":0,"tx_result":{"code":0,"data":null,"log":"","info":"","gas_wanted":"100000","gas_used":"1000","events":[{"type":"transfer","attributes":[{"key":"from","value":"pha1","index":true}]}],"codespace":""},"tx":"gogBbA=="}`
	blockJSON       = `{"block_id":` + blockIDJSON + `,"block":{"header":` + headerJSON + `,"data":{"txs":["gogBbA=="]},"evidence":{"evidence":[]},"last_commit":{"height":"0","round":0,"block_id":{"hash":"","parts":{"total":0,"hash":""}},"signatures":[]}}}`
	valsJSON        = `{"block_height":"2","validators":[{"address":"0AAF7984E6EC976536D72D11B23B229A6B8E33EC","pub_key":{"type":"tendermint/PubKeyEd25519","value":"Gova/Oyz0ZLEgAN8KaBgct7K2NJJ9IOEAgmRDjk6+mk="},"voting_power":"10","proposer_priority":"0"}],"count":"1","total":"1"}`
	chainJSON       = `{"last_height":"1","block_metas":[{"block_id":` + blockIDJSON + `,"block_size":"520","header":` + headerJSON + `,"num_txs":"1"}]}`
)

// fuzzDecoder runs decode on arbitrary bytes: it must not panic, must
// refuse with ErrMalformed only, and what it accepts must go on through
// use without panicking.
func fuzzDecoder[T any](f *testing.F, seeds []string, decode func([]byte) (T, error), use func(*testing.T, *T)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := decode(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		use(t, &v)
	})
}

// encodeHeader checks an accepted header encodes and hashes.
func encodeHeader(t *testing.T, h *Header) {
	if _, err := h.Proto().Marshal(); err != nil {
		t.Fatalf("accepted header does not encode: %v", err)
	}
	if len(h.ValidatorsHash) > 0 && len(h.Hash()) != 32 {
		t.Fatalf("accepted header does not hash")
	}
}

func encodeCommit(t *testing.T, c *Commit) {
	if _, err := c.Proto().Marshal(); err != nil {
		t.Fatalf("accepted commit does not encode: %v", err)
	}
}

func FuzzDecodeAnswers(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":0,"result":{}}`), 1)
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":0,"error":{"code":-32603,"message":"Internal error","data":"not found"}}]`), 2)
	f.Add([]byte(`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"batch request exceeds maximum (10) allowed number of requests"}}`), 11)
	f.Add([]byte(`[{"jsonrpc":"2.0","id":0,"result":{}},{"jsonrpc":"2.0","id":0,"result":{}}]`), 2)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		if n < 1 || n > 100 {
			return
		}
		as, err := decodeAnswers(raw, n)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrRPC) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if len(as) != n {
			t.Fatalf("%d answers for %d calls", len(as), n)
		}
		for _, a := range as {
			if a.JSONRPC != "2.0" {
				t.Fatalf("answer of version %q accepted", a.JSONRPC)
			}
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	fuzzDecoder(f, []string{statusJSON}, DecodeStatus, func(t *testing.T, s *Status) {
		if s.SyncInfo.LatestBlockHeight < 0 {
			t.Fatal("negative height accepted")
		}
	})
}

func FuzzDecodeABCIQuery(f *testing.F) {
	fuzzDecoder(f, []string{queryJSON, provenQueryJSON}, DecodeABCIQuery, func(t *testing.T, q *QueryResponse) {
		if q.ProofOps != nil && len(q.ProofOps.Ops) > MaxProofOps {
			t.Fatalf("accepted a proof of %d operations", len(q.ProofOps.Ops))
		}
	})
}

func FuzzDecodeBroadcast(f *testing.F) {
	fuzzDecoder(f, []string{`{"code":0,"data":"","log":"","codespace":"","hash":"A12871FEE210FB8619291EAEA194581CBD2531E4B23759D225F6806923F63222"}`}, DecodeBroadcast, func(*testing.T, *BroadcastResult) {})
}

func FuzzDecodeTx(f *testing.F) {
	fuzzDecoder(f, []string{txJSON}, DecodeTx, func(t *testing.T, tx *Tx) {
		if tx.Height <= 0 {
			t.Fatal("transaction without a height accepted")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	fuzzDecoder(f, []string{blockJSON}, DecodeBlock, func(t *testing.T, b *BlockResult) {
		encodeHeader(t, &b.Block.Header)
		encodeCommit(t, &b.Block.LastCommit)
	})
}

func FuzzDecodeCommit(f *testing.F) {
	fuzzDecoder(f, []string{`{"signed_header":{"header":` + headerJSON + `,"commit":` + commitJSON + `},"canonical":true}`}, DecodeCommit, func(t *testing.T, c *CommitResult) {
		encodeHeader(t, &c.SignedHeader.Header)
		encodeCommit(t, &c.SignedHeader.Commit)
	})
}

func FuzzDecodeValidators(f *testing.F) {
	fuzzDecoder(f, []string{valsJSON}, DecodeValidators, func(t *testing.T, v *Validators) {
		set, err := NewValidatorSet(v.Validators)
		if err != nil {
			return
		}
		if _, err := set.Proto().Marshal(); err != nil {
			t.Fatalf("accepted set does not encode: %v", err)
		}
		if len(set.Hash()) != 32 {
			t.Fatal("accepted set does not hash")
		}
	})
}

func FuzzDecodeBlockchain(f *testing.F) {
	fuzzDecoder(f, []string{chainJSON}, DecodeBlockchain, func(t *testing.T, b *Blockchain) {
		for i := range b.BlockMetas {
			encodeHeader(t, &b.BlockMetas[i].Header)
		}
	})
}
