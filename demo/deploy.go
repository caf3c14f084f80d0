package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/contracts"
	"github.com/phala-go/phala/sdk/newcontract"
	"github.com/phala-go/phala/vm/wasmbuild"
)

// build writes example name into a module of its own beside the SDK, as
// `phala contract new` lays one out, and builds it as `phala contract
// build` does: the code any user would get from that source.
func (r *run) build(ctx context.Context, name string) (string, error) {
	src, err := contracts.Source(name)
	if err != nil {
		return "", err
	}
	version, err := wasmbuild.LanguageVersion(ctx)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(r.cfg.WorkDir, name)
	if err := newcontract.WriteMain(dir, name, version, src); err != nil {
		return "", err
	}
	res, err := wasmbuild.Build(ctx, dir, filepath.Join(r.cfg.WorkDir, name+".wasm"))
	if err != nil {
		return "", err
	}
	code, err := os.ReadFile(res.Path)
	if err != nil {
		return "", err
	}
	r.built[name] = code
	r.report.Contracts[name] = Deployed{CodeHash: res.Hash, Size: res.Size}
	return fmt.Sprintf("%.1f MB, code hash %s (%s)", float64(res.Size)/1e6, abbrev(res.Hash), res.GoVersion), nil
}

// initArgs are the constructor arguments of each example (sealed to the
// cluster's key by the client): the token mints its supply to its
// deployer; the others take none.
func (r *run) initArgs(name string) []byte {
	if name == contracts.Token {
		return mustJSON(map[string]uint64{"supply": r.inputs.TokenSupply})
	}
	return nil
}

// deploy uploads the built code (nothing is sent if the chain has it,
// from an earlier run) and instantiates it as alice, with this run's
// salt: a new contract each run.
func (r *run) deploy(ctx context.Context, name string) (string, error) {
	code := r.built[name]
	up, err := r.c.Upload(ctx, r.people.alice.key, code, client.UploadOptions{})
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	uploaded := fmt.Sprintf("uploaded in %d transactions (block %d)", up.Chunks, up.Last.Height)
	if up.Existed {
		uploaded = "code on chain already (an earlier run): not sent again"
	}
	inst, err := r.c.Instantiate(ctx, r.people.alice.key, up.CodeHash, client.InstantiateOptions{Cluster: r.cluster, Salt: []byte(r.inputs.Salt), InitArgs: r.initArgs(name)})
	if err != nil {
		return uploaded, fmt.Errorf("instantiate: %w", err)
	}
	r.ids[name] = inst.Contract
	d := r.report.Contracts[name]
	d.Contract = inst.Contract.String()
	r.report.Contracts[name] = d
	return fmt.Sprintf("%s; contract %s (block %d)", uploaded, abbrev(inst.Contract.String()), inst.Height), nil
}

// waitContractKeys waits until the gatekeepers have put every deployed
// contract's public key on chain: commands and queries are sealed to it.
func (r *run) waitContractKeys(ctx context.Context) (string, error) {
	start := time.Now()
	var keyed []string
	for _, name := range r.scenarios {
		if id, ok := r.ids[name]; ok {
			if err := r.waitKey(ctx, id); err != nil {
				return "", fmt.Errorf("%s: %w", name, err)
			}
			keyed = append(keyed, name)
		}
	}
	if len(keyed) == 0 {
		return "", fmt.Errorf("no contract was deployed")
	}
	return fmt.Sprintf("keys of %s on chain within %.1fs", strings.Join(keyed, ", "), time.Since(start).Seconds()), nil
}

func (r *run) waitKey(ctx context.Context, id contractsapi.Hash) error {
	return poll(ctx, func() (bool, error) {
		pubs, err := r.c.ContractKeys(ctx, r.cluster, id[:])
		return err == nil && len(pubs) > 0, err
	})
}
