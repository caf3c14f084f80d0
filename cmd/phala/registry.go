package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/attest/attestfs"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relay"
)

// loadKey asks for the passphrase of a keyring key and decrypts it.
func loadKey(k *keyringFlags, name string) (ed25519.PrivateKey, error) {
	pass, err := k.pass.get("passphrase of " + name + ": ")
	if err != nil {
		return nil, err
	}
	return k.open().Load(name, pass)
}

type nodeJSON struct {
	Role          string   `json:"role"`
	IdentityKey   string   `json:"identity_key"`
	EncryptionKey string   `json:"encryption_key"`
	Operator      string   `json:"operator"`
	TEE           string   `json:"tee"`
	Measurement   string   `json:"measurement"`
	TCBStatus     string   `json:"tcb_status"`
	Advisories    []string `json:"advisory_ids,omitempty"`
	AttestedAt    string   `json:"attested_at"`
	ExpiresAt     string   `json:"expires_at"`
	Active        bool     `json:"active"`
	Reason        string   `json:"reason,omitempty"`
}

func nodeOut(n registryapi.Node) nodeJSON {
	v := n.Attestation
	m := hex.EncodeToString(v.MrEnclave[:])
	if v.TEE == attest.KindTDX {
		m = hex.EncodeToString(v.MrTd[:])
	}
	return nodeJSON{
		Role: n.Role.String(), IdentityKey: hex.EncodeToString(n.IdentityKey), EncryptionKey: hex.EncodeToString(n.EncryptionKey),
		Operator: n.Operator.String(), TEE: string(v.TEE), Measurement: m, TCBStatus: v.TCBStatus, Advisories: v.AdvisoryIDs,
		AttestedAt: time.Unix(n.AttestedAt, 0).UTC().Format(time.RFC3339), ExpiresAt: time.Unix(n.ExpiresAt, 0).UTC().Format(time.RFC3339),
		Active: n.Active, Reason: n.Reason,
	}
}

func (n nodeJSON) line() string {
	state := "active"
	if !n.Active {
		state = "inactive: " + n.Reason
	}
	return fmt.Sprintf("%-10s %s  %s  %s/%s  %s", n.Role, n.IdentityKey, n.Operator, n.TEE, n.TCBStatus, state)
}

// text is one node in full, every field of its JSON.
func (n nodeJSON) text() string {
	state := "active"
	if !n.Active {
		state = "inactive: " + n.Reason
	}
	advisories := strings.Join(n.Advisories, ", ")
	if advisories == "" {
		advisories = "none"
	}
	return rowsText("", []row{{"role", n.Role}, {"identity key", n.IdentityKey}, {"encryption key", abbreviatedHex(n.EncryptionKey)},
		{"operator", n.Operator}, {"tee", n.TEE}, {"measurement", n.Measurement}, {"tcb status", n.TCBStatus},
		{"advisories", advisories}, {"attested at", n.AttestedAt}, {"expires at", n.ExpiresAt}, {"state", state}})
}

// abbreviatedHex shortens a long key (an HPKE public key is over a
// kilobyte) to its start and size; JSON carries it whole.
func abbreviatedHex(h string) string {
	const keep = 32
	if len(h) <= 2*keep {
		return h
	}
	return fmt.Sprintf("%s... (%d bytes)", h[:keep], len(h)/2)
}

type registerFlags struct {
	k           keyringFlags
	n           nodeFlag
	from        string
	runtime     string
	token       runtimeTokenFlags
	collDir     string
	evidence    string
	evidenceOut string
}

func txRegisterWorkerCmd() *cobra.Command {
	var f registerFlags
	cmd := &cobra.Command{
		Use:   "register-worker --from OPERATOR --runtime URL --worker-home DIR",
		Short: "Register a running worker runtime (or gatekeeper) with evidence it attests in its TEE",
		Long: `Register a running worker runtime with evidence it attests in its TEE.

A relay registers its runtime by itself once the runtime has caught up;
use this instead when the relay runs with --manual-registration, or to
register under its operator's key when the relay does not hold it. The
runtime (its relay API, from worker.json in its home) must be running and
have verified at least one block: it quotes its own sealed keys, bound to
the operator and that block, and nothing outside it ever sees those keys.
The relay API needs the runtime's token (--worker-home or
--runtime-token-file), and the runtime quotes only for the operator it was
started with (phala worker --operator): --from must be that operator. The role is the
one the runtime was started with. --evidence-out writes the registration to
a file instead of submitting it; --evidence submits such a file from
another machine (within max_anchor_age blocks of its anchor).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return f.run() },
	}
	f.k.register(cmd, true)
	f.n.register(cmd)
	cmd.Flags().StringVar(&f.from, "from", "", "operator key that pays and is bound into the attestation")
	cmd.Flags().StringVar(&f.runtime, "runtime", "", "the running runtime's relay API, e.g. http://127.0.0.1:41234 (relay_api in its worker.json)")
	f.token.register(cmd)
	cmd.Flags().StringVar(&f.collDir, "collateral", "", "directory of Intel PCS collateral for sgx/tdx quotes")
	cmd.Flags().StringVar(&f.evidence, "evidence", "", "submit this registration file instead of asking a runtime")
	cmd.Flags().StringVar(&f.evidenceOut, "evidence-out", "", "write the registration to this file instead of submitting it")
	cmd.MarkFlagRequired("from")
	return cmd
}

func (f *registerFlags) run() error {
	if (f.runtime == "") == (f.evidence == "") {
		return fmt.Errorf("name exactly one of --runtime (a running runtime attests) and --evidence (a registration file)")
	}
	op, err := loadKey(&f.k, f.from)
	if err != nil {
		return err
	}
	c, ctx, cancel, err := f.n.connect()
	if err != nil {
		return err
	}
	defer cancel()
	body, err := f.body(ctx, address.FromPublicKey(op.Public().(ed25519.PublicKey)))
	if err != nil {
		return err
	}
	if f.evidenceOut != "" {
		raw, err := json.MarshalIndent(body, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(f.evidenceOut, raw, 0o644)
	}
	inc, err := c.Register(ctx, op, body)
	if err != nil {
		return err
	}
	node, err := c.Node(ctx, body.IdentityKey)
	if err != nil {
		return err
	}
	out := nodeOut(node)
	return emit(map[string]any{"tx": hex.EncodeToString(inc.Hash[:]), "height": inc.Height, "node": out}, func() string {
		return fmt.Sprintf("registered in block %d\n%s", inc.Height, out.line())
	})
}

// body reads a registration file, or asks the running runtime to attest
// its keys for operator.
func (f *registerFlags) body(ctx context.Context, operator address.Address) (registryapi.Register, error) {
	var body registryapi.Register
	if f.evidence != "" {
		raw, err := os.ReadFile(f.evidence)
		if err != nil {
			return body, err
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return body, fmt.Errorf("evidence file %s: %w", f.evidence, err)
		}
		return body, nil
	}
	var coll attest.Collateral
	if f.collDir != "" {
		var err error
		if coll, err = attestfs.LoadCollateralDir(f.collDir); err != nil {
			return body, err
		}
	}
	tok, err := f.token.load()
	if err != nil {
		return body, err
	}
	ev, err := relay.NewHTTPRuntime(f.runtime, tok).Evidence(ctx, operator)
	if err != nil {
		return body, fmt.Errorf("runtime at %s: %w", f.runtime, err)
	}
	return relay.Registration(ev, coll), nil
}

func txSetPolicyCmd() *cobra.Command {
	var (
		k          keyringFlags
		n          nodeFlag
		from, file string
	)
	cmd := &cobra.Command{
		Use: "set-policy --from ADMIN --policy FILE", Short: "Replace the attestation policy (development chains' unsafe dev admin; on a production chain use `phala tx gov propose`)",
		Long: "Replace the attestation policy; nodes that no longer pass are deactivated at the end of the block.\n\n" + authorityNote, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			raw, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var p attest.Policy
			if err := json.Unmarshal(raw, &p); err != nil {
				return fmt.Errorf("policy file %s: %w", file, err)
			}
			return sendAdmin(&k, &n, from, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: p})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the unsafe dev admin's key (development chains only)")
	cmd.Flags().StringVar(&file, "policy", "", "policy JSON file")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("policy")
	return cmd
}

func txSetGatekeeperCmd() *cobra.Command {
	var (
		k                        keyringFlags
		n                        nodeFlag
		from, operator, identity string
		remove                   bool
	)
	cmd := &cobra.Command{
		Use: "set-gatekeeper --from ADMIN (--operator ADDR | --identity HEX) [--remove]", Short: "Allow or withdraw a gatekeeper (development chains' unsafe dev admin; on a production chain use `phala tx gov propose`)",
		Long: "Allow or withdraw a gatekeeper; withdrawing deactivates the gatekeepers the grant covered.\n\n" + authorityNote, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var g registryapi.Grant
			var err error
			switch {
			case operator != "" && identity == "":
				g.Operator, err = address.Parse(operator)
			case identity != "" && operator == "":
				g.IdentityKey, err = hex.DecodeString(identity)
			default:
				return fmt.Errorf("give exactly one of --operator and --identity")
			}
			if err != nil {
				return err
			}
			return sendAdmin(&k, &n, from, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: g, Allowed: !remove})
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the unsafe dev admin's key (development chains only)")
	cmd.Flags().StringVar(&operator, "operator", "", "allow gatekeepers of this operator")
	cmd.Flags().StringVar(&identity, "identity", "", "allow the gatekeeper with this identity key (hex)")
	cmd.Flags().BoolVar(&remove, "remove", false, "withdraw the grant (deactivates the gatekeepers it covered)")
	cmd.MarkFlagRequired("from")
	return cmd
}

func sendAdmin(k *keyringFlags, n *nodeFlag, from, method string, body any) error {
	key, err := loadKey(k, from)
	if err != nil {
		return err
	}
	c, ctx, cancel, err := n.connect()
	if err != nil {
		return err
	}
	defer cancel()
	inc, err := c.Send(ctx, key, method, body)
	if err != nil {
		return err
	}
	return emit(txResultJSON{Hash: hex.EncodeToString(inc.Hash[:]), Height: inc.Height}, func() string {
		return fmt.Sprintf("%s committed in block %d", method, inc.Height)
	})
}

func queryNodesCmd(use, short string, role registryapi.Role, activeGatekeepers bool) *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			nodes, err := c.Nodes(ctx, role)
			if err != nil {
				return err
			}
			out := make([]nodeJSON, len(nodes))
			lines := []string{}
			for i, node := range nodes {
				out[i] = nodeOut(node)
				lines = append(lines, out[i].line())
			}
			if len(lines) == 0 {
				lines = append(lines, "none registered")
			}
			if !activeGatekeepers {
				return emit(out, func() string { return strings.Join(lines, "\n") })
			}
			g, err := c.Gatekeepers(ctx)
			if err != nil {
				return err
			}
			grants := make([]client.Fields, len(g.Grants))
			for i, gr := range g.Grants {
				grants[i] = client.GrantFields(gr)
			}
			return emit(map[string]any{"grants": grants, "gatekeepers": out}, func() string {
				return gatekeepersText(grants, lines)
			})
		},
	}
	n.register(cmd)
	return cmd
}

// gatekeepersText lists each grant, then each registered gatekeeper with
// its state.
func gatekeepersText(grants []client.Fields, nodeLines []string) string {
	lines := []string{fmt.Sprintf("grants (%d)", len(grants))}
	if len(grants) == 0 {
		lines = append(lines, "  none: no node may be a gatekeeper")
	}
	for _, g := range grants {
		lines = append(lines, rowsText("  ", fieldRows(g)))
	}
	lines = append(lines, "gatekeepers")
	for _, l := range nodeLines {
		lines = append(lines, "  "+l)
	}
	return strings.Join(lines, "\n")
}

func queryWorkerCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "worker IDENTITY_KEY", Short: "A registered node by identity key (hex)", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id, err := hex.DecodeString(args[0])
			if err != nil || len(id) != ed25519.PublicKeySize {
				return fmt.Errorf("invalid identity key %q: want 64 hex digits", args[0])
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			node, err := c.Node(ctx, id)
			if err != nil {
				return err
			}
			out := nodeOut(node)
			return emit(out, out.text)
		},
	}
	n.register(cmd)
	return cmd
}

func queryPolicyCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "policy", Short: "The attestation policy", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			p, err := c.Policy(ctx)
			if err != nil {
				return err
			}
			// JSON stays the policy itself, the form set-policy reads.
			return emit(p, func() string { return rowsText("", fieldRows(client.PolicyFields(p))) })
		},
	}
	n.register(cmd)
	return cmd
}
