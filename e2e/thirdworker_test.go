package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/phala-go/phala/worker/api"
)

// thirdWorker is a worker of the devnet's default cluster run as an
// operator runs one, beside the devnet's in-process workers: its own
// `phala worker` and `phala relay` processes.
type thirdWorker struct {
	*workerProc
	relay *server
	d     *devnet
}

// thirdWorkerOptions say who operates the worker and how its processes
// are reached.
type thirdWorkerOptions struct {
	operator    string   // the operator's address
	operatorKey string   // its key's name in the devnet's keyring, for the relay
	workerArgs  []string // more `phala worker` flags (fixed listen ports)
	// route, if set, gives the URLs the relay uses for the runtime's relay
	// API and for the node instead of theirs (recording proxies).
	route func(runtime, node string) (toRuntime, toNode string)
	// registerWithin bounds the wait for the chain to register the worker.
	registerWithin time.Duration
}

// startThirdWorker starts the worker on home and then its relay, waits
// until the chain registered the worker, assigns it to the default
// cluster and waits until it holds the cluster's key.
func startThirdWorker(t *testing.T, c *cli, d *devnet, env []string, home string, o thirdWorkerOptions) *thirdWorker {
	t.Helper()
	rpc, keys := d.url(), d.info.Keyring
	w := newWorker(t, c, "worker-w", home, filepath.Join(d.home, "config", "genesis.json"), o.operator, o.workerArgs...)
	w.start()
	toRuntime, toNode := w.info.RelayAPI, rpc
	if o.route != nil {
		toRuntime, toNode = o.route(toRuntime, toNode)
	}
	tw := &thirdWorker{workerProc: w, d: d,
		relay: newServer(t, "relay-w", env, "relay", "--runtime", toRuntime, "--worker-home", home, "--key", o.operatorKey,
			"--node", toNode, "--keyring", keys, "--output", "json")}
	tw.relay.start()
	waitFor(t, o.registerWithin, "W registered", func() (bool, string, error) {
		if err := tw.alive(); err != nil {
			return false, "", err
		}
		st, err := w.status()
		if err != nil {
			return false, err.Error(), nil
		}
		return st.Registered, fmt.Sprintf("W at %d registered %v", st.Height, st.Registered), nil
	})
	c.mustJSONEnv(&txJSON{}, []string{"PHALA_PASSPHRASE=" + devPassphrase}, "tx", "assign-worker", "--from", "alice", "--cluster", "default",
		"--worker", w.info.IdentityKey, "--keyring", keys, "--node", rpc, "--output", "json")
	waitFor(t, 60*time.Second, "W to hold the default cluster's key", func() (bool, string, error) {
		if err := tw.alive(); err != nil {
			return false, "", err
		}
		st, err := w.publicStatus()
		if err != nil {
			return false, err.Error(), nil
		}
		holds := slices.ContainsFunc(st.Clusters, func(k api.ClusterKeyJSON) bool { return k.Cluster == "default" })
		return holds, fmt.Sprintf("W at %d clusters %v", st.Height, st.Clusters), nil
	})
	return tw
}

// alive fails once the devnet, the worker or its relay has exited.
func (tw *thirdWorker) alive() error {
	for _, s := range []*server{tw.d.srv, tw.srv, tw.relay} {
		if err := s.checkAlive(); err != nil {
			return err
		}
	}
	return nil
}
