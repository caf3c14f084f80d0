package api

import (
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/workerwire"
)

// Public API paths (and workerwire's: PathReceipts + seq or
// PathReceiptsTx + hash, a command's receipt sealed to its reply key and
// signed by the worker; PathQuery, encrypted queries; PathEvents, the
// events addressed to an account).
const (
	PublicPathStatus      = "/v1/status"
	PublicPathAttestation = "/v1/attestation"
)

// StatusJSON is the public status.
type StatusJSON struct {
	ChainID       string `json:"chain_id"`
	Height        int64  `json:"height"`
	BlockHash     string `json:"block_hash"`
	StateHash     string `json:"state_hash"`
	IdentityKey   string `json:"identity_key"`
	EncryptionKey string `json:"encryption_key"`
	Role          string `json:"role"`
	Registered    bool   `json:"registered"`
	// Keys: what the runtime holds (never the secrets) and the master
	// public keys the chain recorded, when the runtime reports them.
	MasterGenerations []uint32           `json:"master_generations,omitempty"`
	Clusters          []ClusterKeyJSON   `json:"clusters,omitempty"`
	MasterPublicKeys  []MasterPublicJSON `json:"master_public_keys,omitempty"`
	// Endpoint is the public API URL the operator advertises and
	// EndpointRecorded the one the chain recorded for this node (absent:
	// none).
	Endpoint         string `json:"endpoint,omitempty"`
	EndpointRecorded string `json:"endpoint_recorded,omitempty"`
}

// EndpointReporter is implemented by runtimes that publish their endpoint
// on chain; the public status then shows it.
type EndpointReporter interface {
	Endpoint() (advertised, recorded string)
}

// ClusterKeyJSON is a cluster key generation a worker holds.
type ClusterKeyJSON struct {
	Cluster    string `json:"cluster"`
	Generation uint32 `json:"generation"`
}

// MasterPublicJSON is a recorded master public key.
type MasterPublicJSON struct {
	Generation uint32 `json:"generation"`
	PublicKey  string `json:"public_key"`
}

// KeyReporter is implemented by runtimes that manage keys; the public
// status then shows them.
type KeyReporter interface {
	KeyStatus() enclave.KeyStatus
}

func addKeys(out *StatusJSON, rt Runtime) {
	kr, ok := rt.(KeyReporter)
	if !ok {
		return
	}
	ks := kr.KeyStatus()
	out.MasterGenerations = ks.MasterGenerations
	for _, c := range ks.Clusters {
		out.Clusters = append(out.Clusters, ClusterKeyJSON{Cluster: c.Cluster, Generation: c.Generation})
	}
	for _, m := range ks.MasterPublics {
		out.MasterPublicKeys = append(out.MasterPublicKeys, MasterPublicJSON{Generation: m.Generation, PublicKey: hex.EncodeToString(m.PublicKey)})
	}
}

// AttestationJSON is the node's keys and its newest evidence, if any.
type AttestationJSON struct {
	IdentityKey   string `json:"identity_key"`
	EncryptionKey string `json:"encryption_key"`
	Role          string `json:"role"`
	// The newest evidence (absent until a relay asked for one).
	AnchorHeight int64  `json:"anchor_height,omitempty"`
	AnchorHash   string `json:"anchor_hash,omitempty"`
	Quote        string `json:"quote,omitempty"`
}

// NewPublicHandler serves the public API over rt: JSON, read only.
func NewPublicHandler(rt Runtime) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PublicPathStatus, getJSON(func() any {
		s := rt.Status()
		out := StatusJSON{
			ChainID: s.ChainID, Height: s.Height, BlockHash: hex.EncodeToString(s.BlockHash),
			StateHash: hex.EncodeToString(s.StateHash), IdentityKey: hex.EncodeToString(s.IdentityKey),
			EncryptionKey: hex.EncodeToString(s.EncryptionKey), Role: registryapi.Role(s.Role).String(), Registered: s.Registered,
		}
		addKeys(&out, rt)
		if er, ok := rt.(EndpointReporter); ok {
			out.Endpoint, out.EndpointRecorded = er.Endpoint()
		}
		return out
	}))
	mux.HandleFunc(PublicPathAttestation, getJSON(func() any {
		s := rt.Status()
		out := AttestationJSON{IdentityKey: hex.EncodeToString(s.IdentityKey), EncryptionKey: hex.EncodeToString(s.EncryptionKey), Role: registryapi.Role(s.Role).String()}
		if ev, ok := rt.LastEvidence(); ok {
			out.AnchorHeight, out.AnchorHash, out.Quote = ev.AnchorHeight, hex.EncodeToString(ev.AnchorHash), hex.EncodeToString(ev.Quote)
		}
		return out
	}))
	mux.HandleFunc(workerwire.PathReceipts, receiptHandler(rt))
	queryHandlers(mux, rt)
	mux.HandleFunc(workerwire.PathEvents, eventsHandler(rt))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writePublicError(w, ErrNotFound.Wrapf("%s", r.URL.Path))
	})
	return WithLimits(mux, PublicLimits())
}

func getJSON(v func() any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writePublicError(w, ErrMethod.Wrapf("%s %s", r.Method, r.URL.Path))
			return
		}
		writeJSON(w, http.StatusOK, v())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}

// writePublicError answers the relaywire.Error fields as JSON.
func writePublicError(w http.ResponseWriter, err error) {
	e := wireError(err)
	writeJSON(w, statusOf(err), map[string]any{"module": e.Module, "code": e.Code, "message": e.Message})
}
