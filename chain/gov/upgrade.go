package gov

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// MinUpgradeLead is how many blocks after the one that schedules it a plan
// may take effect at the earliest: the block in between is committed with
// the plan in state, so every node learns of it and one that does not know
// the plan stops after committing it, between blocks.
const MinUpgradeLead = 2

// upgradeMethods schedule and cancel a software upgrade.
func upgradeMethods() []module.Method {
	return []module.Method{
		{Name: govapi.MethodUpgrade, Gas: govapi.AuthorityGas, Authority: true, Handle: handleScheduleUpgrade},
		{Name: govapi.MethodCancelUpgrade, Gas: govapi.AuthorityGas, Authority: true, Handle: handleCancelUpgrade},
	}
}

// handleScheduleUpgrade stores a plan, replacing any earlier one: the
// latest decision of governance is the one nodes follow.
func handleScheduleUpgrade(ctx *module.Context, body []byte) error {
	p, err := decodePlan(body)
	if err != nil {
		return err
	}
	if err := CheckPlan(p); err != nil {
		return err
	}
	if err := requireAuthority(ctx); err != nil {
		return err
	}
	if earliest := ctx.Height + MinUpgradeLead; p.Height < earliest {
		return govapi.ErrUpgrade.Wrapf("height %d is too soon: this is block %d, the earliest is %d (nodes need a committed block to learn of the plan)",
			p.Height, ctx.Height, earliest)
	}
	old, had, err := PlannedUpgrade(ctx.Store)
	if err != nil {
		return err
	}
	ctx.Store.Set(govapi.UpgradeKey.Key(), codec.MustMarshal(p))
	attrs := []module.Attr{module.A("name", p.Name), module.A("height", p.Height)}
	if had {
		attrs = append(attrs, module.A("replaces", old.Name))
	}
	ctx.Emit(govapi.EventUpgradeSchedule, attrs...)
	return nil
}

// handleCancelUpgrade drops the plan; naming it guards against cancelling
// a plan that replaced the one the canceller meant.
func handleCancelUpgrade(ctx *module.Context, body []byte) error {
	c, err := decodeCancelUpgrade(body)
	if err != nil {
		return err
	}
	if err := requireAuthority(ctx); err != nil {
		return err
	}
	p, ok, err := PlannedUpgrade(ctx.Store)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return govapi.ErrUpgrade.Wrapf("no upgrade is planned, so none named %q can be cancelled", c.Name)
	case p.Name != c.Name:
		return govapi.ErrUpgrade.Wrapf("the planned upgrade is %q, not %q", p.Name, c.Name)
	}
	ctx.Store.Delete(govapi.UpgradeKey.Key())
	ctx.Emit(govapi.EventUpgradeCanceled, module.A("name", p.Name), module.A("height", p.Height))
	return nil
}

// decodePlan and decodeCancelUpgrade read the bodies strictly and only in
// their canonical encoding, as decode.go does the others.
func decodePlan(b []byte) (govapi.Plan, error) {
	var p govapi.Plan
	if err := codec.UnmarshalCanonical(b, &p); err != nil {
		return p, govapi.ErrInvalid.Wrapf("schedule_upgrade body: %v", err)
	}
	return p, nil
}

func decodeCancelUpgrade(b []byte) (govapi.CancelUpgrade, error) {
	var c govapi.CancelUpgrade
	if err := codec.UnmarshalCanonical(b, &c); err != nil {
		return c, govapi.ErrInvalid.Wrapf("cancel_upgrade body: %v", err)
	}
	return c, nil
}

// CheckPlan checks a plan's form: a name of printable ASCII without
// spaces (it names a release in logs and commands), info an operator can
// read without control characters (it is printed to terminals), a
// positive height. Whether the height is far enough ahead depends on the
// block and is checked when scheduling.
func CheckPlan(p govapi.Plan) error {
	if p.Name == "" || len(p.Name) > govapi.MaxPlanName {
		return govapi.ErrUpgrade.Wrapf("name must be 1 to %d characters, got %d", govapi.MaxPlanName, len(p.Name))
	}
	for i := 0; i < len(p.Name); i++ {
		if c := p.Name[i]; c < 0x21 || c > 0x7e {
			return govapi.ErrUpgrade.Wrapf("name %q: byte %d is not printable ASCII (no spaces)", p.Name, i)
		}
	}
	if len(p.Info) > govapi.MaxPlanInfo {
		return govapi.ErrUpgrade.Wrapf("info is %d bytes, at most %d", len(p.Info), govapi.MaxPlanInfo)
	}
	if !utf8.ValidString(p.Info) {
		return govapi.ErrUpgrade.Wrapf("info is not UTF-8")
	}
	for _, r := range p.Info {
		if unicode.IsControl(r) {
			return govapi.ErrUpgrade.Wrapf("info holds a control character %U", r)
		}
	}
	if p.Height <= 0 {
		return govapi.ErrUpgrade.Wrapf("height %d must be positive", p.Height)
	}
	return nil
}

// PlannedUpgrade returns the scheduled upgrade, if any: the application
// reads it to stop before a block it cannot run, or to apply it.
func PlannedUpgrade(r state.Reader) (govapi.Plan, bool, error) {
	raw, err := r.Get(govapi.UpgradeKey.Key())
	if err != nil || raw == nil {
		return govapi.Plan{}, false, err
	}
	var p govapi.Plan
	if err := codec.Unmarshal(raw, &p); err != nil {
		return govapi.Plan{}, false, govapi.ErrCorruptState.Wrapf("upgrade plan: %v", err)
	}
	return p, true, nil
}

// ClearUpgrade removes the plan once the application has applied it.
func ClearUpgrade(s *state.Overlay) { s.Delete(govapi.UpgradeKey.Key()) }

// upgradeQuery answers the upgrade query; ok is false for other paths.
func (m Module) upgradeQuery(r state.IterReader, path string, _ []byte) (any, bool, error) {
	if path != govapi.QueryUpgrade {
		return nil, false, nil
	}
	p, ok, err := PlannedUpgrade(r)
	if err != nil {
		return nil, true, fmt.Errorf("upgrade query: %w", err)
	}
	info := govapi.UpgradeInfo{}
	if ok {
		info.Planned = &p
	}
	return info, true, nil
}
