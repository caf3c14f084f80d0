package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
)

// Authority transactions (chain/authority): a development chain's unsafe
// dev admin sends them directly; on a production chain they are the
// actions of a governance proposal.

// authorityNote ends the help of every authority transaction command.
const authorityNote = "Only the chain's authority may send this: on a development chain its unsafe dev admin " +
	"(gov.unsafe_dev_admin, e.g. the devnet's alice); on a production chain use `phala tx gov propose`."

// authorityTxCmd is adminTxCmd for an Authority method, with the note in
// its help.
func authorityTxCmd(use, short, method string, flags func(*cobra.Command), body func() (any, error)) *cobra.Command {
	cmd := adminTxCmd(use, short+" (development chains' unsafe dev admin; on a production chain use `phala tx gov propose`)", method, flags, body)
	cmd.Long = short + ".\n\n" + authorityNote
	cmd.Flags().Lookup("from").Usage = "the unsafe dev admin's key (development chains only)"
	return cmd
}

// paramsQuery reads a module's params as JSON: the form set_params paths
// and values are written in.
var paramsQuery = map[string]func(context.Context, *client.Client) (any, error){
	bankapi.Name:      queryParamsAs[bankapi.Params](bankapi.QueryParams),
	registryapi.Name:  queryParamsAs[registryapi.Params](registryapi.QueryParams),
	contractsapi.Name: queryParamsAs[contractsapi.Params](contractsapi.QueryParams),
	computeapi.Name:   queryParamsAs[computeapi.Params](computeapi.QueryParams),
	poolsapi.Name:     queryParamsAs[poolsapi.Params](poolsapi.QueryParams),
	govapi.Name: func(ctx context.Context, c *client.Client) (any, error) {
		var info govapi.ParamsInfo
		err := c.Query(ctx, govapi.QueryParams, nil, &info)
		return info.Params, err
	},
}

func queryParamsAs[T any](path string) func(context.Context, *client.Client) (any, error) {
	return func(ctx context.Context, c *client.Client) (any, error) {
		var p T
		err := c.Query(ctx, path, nil, &p)
		return p, err
	}
}

// setParamsCmd is `phala tx <module> set-params`: the changes come from
// --set path=value (repeated) or --file, checked here against the
// module's current params so a typo fails before anything is signed.
func setParamsCmd(mod string) *cobra.Command {
	var (
		k    keyringFlags
		n    nodeFlag
		from string
		sets []string
		file string
	)
	method := client.SetParamsMethods[mod]
	short := "Change " + mod + "'s params"
	cmd := &cobra.Command{
		Use:   "set-params --from ADMIN (--set PATH=VALUE ... | --file FILE)",
		Short: short + " (development chains' unsafe dev admin; on a production chain use `phala tx gov propose`)",
		Long: short + ". Paths and values are those of the module's params in JSON, as its params query prints them " +
			"with --output json (nested ones dotted: economy.cool_down); strings may be left unquoted and durations written as 90s. --file holds either " +
			`{"changes": [{"path": ..., "value": ...}]} or params JSON (all or some of them): what differs from ` +
			"the chain's current params is sent.\n\n" + authorityNote,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if (len(sets) == 0) == (file == "") {
				return fmt.Errorf("give --set PATH=VALUE (repeatable) or --file, one of them")
			}
			key, err := loadKey(&k, from)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			current, err := currentParams(ctx, c, mod)
			if err != nil {
				return err
			}
			var change module.ParamChange
			if file != "" {
				change, err = changeFromFile(file, current)
			} else {
				change, err = changeFromSets(sets, current)
			}
			if err != nil {
				return err
			}
			inc, err := c.SetParams(ctx, key, method, change)
			if err != nil {
				return err
			}
			return emit(txResultJSON{Hash: fmt.Sprintf("%x", inc.Hash[:]), Height: inc.Height}, func() string {
				return fmt.Sprintf("%s committed in block %d", method, inc.Height)
			})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the unsafe dev admin's key (development chains only)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "PATH=VALUE, e.g. answer_window=30s (repeatable)")
	cmd.Flags().StringVar(&file, "file", "", "a JSON file: the changes, or params to match")
	cmd.MarkFlagRequired("from")
	return cmd
}

// paramsTxCmds are `phala tx bank|registry|contracts set-params`
// (compute's and the pools' are in their own groups).
func paramsTxCmds() []*cobra.Command {
	var out []*cobra.Command
	for _, mod := range []string{bankapi.Name, registryapi.Name, contractsapi.Name} {
		group := &cobra.Command{Use: mod, Short: "The " + mod + " module's authority transactions"}
		group.AddCommand(setParamsCmd(mod))
		out = append(out, group)
	}
	return out
}

// currentParams returns a module's params as leaves: path → JSON value.
func currentParams(ctx context.Context, c *client.Client, mod string) (map[string]json.RawMessage, error) {
	q, ok := paramsQuery[mod]
	if !ok {
		return nil, fmt.Errorf("module %q has no params", mod)
	}
	p, err := q(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("current %s params: %w", mod, err)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return paramLeaves(raw)
}

// paramLeaves flattens a params JSON object into its leaves, each as
// compact JSON under its dotted path.
func paramLeaves(raw []byte) (map[string]json.RawMessage, error) {
	var tree map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	var walk func(prefix string, t map[string]any) error
	walk = func(prefix string, t map[string]any) error {
		for name, v := range t {
			if sub, ok := v.(map[string]any); ok {
				if err := walk(prefix+name+".", sub); err != nil {
					return err
				}
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			out[prefix+name] = b
		}
		return nil
	}
	return out, walk("", tree)
}

// changeFromSets builds the change from PATH=VALUE pairs. A value is
// JSON, or, where the param is a JSON string (amounts, decimals), the
// bare text; where it is a number, a Go duration (90s) is taken in
// nanoseconds.
func changeFromSets(sets []string, current map[string]json.RawMessage) (module.ParamChange, error) {
	var c module.ParamChange
	for _, s := range sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok || path == "" || value == "" {
			return c, fmt.Errorf("--set %q: want PATH=VALUE", s)
		}
		old, known := current[path]
		if !known {
			return c, fmt.Errorf("--set %q: no param %q (params: %s)", s, path, strings.Join(sortedKeys(current), ", "))
		}
		c.Changes = append(c.Changes, module.ParamValue{Path: path, Value: paramValue(value, old)})
	}
	return c, nil
}

func paramValue(value string, old json.RawMessage) json.RawMessage {
	isString := len(old) > 0 && old[0] == '"'
	if isString && !strings.HasPrefix(value, `"`) {
		b, _ := json.Marshal(value)
		return b
	}
	if ns, ok := durationNanos(value); ok && !isString && !json.Valid([]byte(value)) {
		return ns
	}
	return json.RawMessage(value)
}

// durationNanos is a Go duration ("90s") as the JSON number of nanoseconds
// the params' duration fields hold.
func durationNanos(text string) (json.RawMessage, bool) {
	d, err := time.ParseDuration(text)
	if err != nil {
		return nil, false
	}
	return json.RawMessage(strconv.FormatInt(int64(d), 10)), true
}

// changeFromFile reads {"changes": [...]}, or params JSON from which the
// leaves that differ from the current ones become the changes.
func changeFromFile(file string, current map[string]json.RawMessage) (module.ParamChange, error) {
	var c module.ParamChange
	raw, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return c, fmt.Errorf("%s: %w", file, err)
	}
	if _, ok := probe["changes"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("%s: %w", file, err)
		}
		return c, nil
	}
	leaves, err := paramLeaves(raw)
	if err != nil {
		return c, fmt.Errorf("%s: %w", file, err)
	}
	for _, path := range sortedKeys(leaves) {
		old, known := current[path]
		if !known {
			return c, fmt.Errorf("%s: no param %q", file, path)
		}
		if !bytes.Equal(old, leaves[path]) {
			c.Changes = append(c.Changes, module.ParamValue{Path: path, Value: leaves[path]})
		}
	}
	if len(c.Changes) == 0 {
		return c, fmt.Errorf("%s: the params are those in force already: nothing to change", file)
	}
	return c, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
