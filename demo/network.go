package demo

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// statusPath is a worker's public status (worker/api.PublicPathStatus;
// the demo links no worker package).
const statusPath = "/v1/status"

// workerStatus is what the demo reads of a worker's public status.
type workerStatus struct {
	IdentityKey string    `json:"identity_key"`
	Height      int64     `json:"height"`
	Clusters    []heldKey `json:"clusters"`
}

// heldKey is a cluster key a worker holds (its generation, not the key).
type heldKey struct {
	Cluster string `json:"cluster"`
}

// checkNetwork waits (within the step's time) until the cluster has its
// public key and workers on chain, and every worker URL answers as one of
// them, holding the cluster's key: a devnet just started gets there on
// its own.
func (r *run) checkNetwork(ctx context.Context) (string, error) {
	if len(r.cfg.Workers) == 0 {
		return "", errors.New("no worker to ask: the network runs no workers (phala devnet runs two; for a testnet, phala node --tee-nodes)")
	}
	var height int64
	err := poll(ctx, func() (bool, error) {
		cl, err := r.c.Cluster(ctx, r.cluster)
		if err != nil {
			return false, fmt.Errorf("cluster %q: %w", r.cluster, err)
		}
		if len(cl.Publics) == 0 || len(cl.Workers) == 0 {
			return false, fmt.Errorf("cluster %q has %d workers and %d public keys on chain", r.cluster, len(cl.Workers), len(cl.Publics))
		}
		for _, u := range r.cfg.Workers {
			st, err := fetchStatus(ctx, u)
			if err != nil {
				return false, err
			}
			id, _ := hex.DecodeString(st.IdentityKey)
			if !slices.ContainsFunc(cl.Workers, func(w ed25519.PublicKey) bool { return w.Equal(ed25519.PublicKey(id)) }) {
				return false, fmt.Errorf("worker %s (identity %s) is not assigned to cluster %q", u, abbrev(st.IdentityKey), r.cluster)
			}
			if !slices.Contains(st.Clusters, heldKey{Cluster: r.cluster}) {
				return false, fmt.Errorf("worker %s does not hold cluster %q's key yet", u, r.cluster)
			}
		}
		height, err = r.c.LatestHeight(ctx)
		return err == nil, err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("chain %s at height %d; cluster %s has its key and %d workers answering, each holding the cluster key", r.report.ChainID, height, r.cluster, len(r.cfg.Workers)), nil
}

var statusHTTP = &http.Client{Timeout: 5 * time.Second}

func fetchStatus(ctx context.Context, workerURL string) (workerStatus, error) {
	base := strings.TrimRight(workerURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+statusPath, nil)
	if err != nil {
		return workerStatus{}, err
	}
	resp, err := statusHTTP.Do(req)
	if err != nil {
		return workerStatus{}, fmt.Errorf("worker %s does not answer: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return workerStatus{}, fmt.Errorf("worker %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return workerStatus{}, fmt.Errorf("worker %s: HTTP %d", base, resp.StatusCode)
	}
	var st workerStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return workerStatus{}, fmt.Errorf("worker %s: status: %w", base, err)
	}
	return st, nil
}
