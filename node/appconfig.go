package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/viper"
)

// AppConfig is what a node's operator tunes of the application, kept in
// <home>/config/app.toml beside CometBFT's config.toml. node only stores
// it; network hands it to the application.
type AppConfig struct {
	Snapshots SnapshotConfig `mapstructure:"snapshots"`
}

// SnapshotConfig says how often the node takes state-sync snapshots.
type SnapshotConfig struct {
	// Interval: a snapshot every Interval blocks; 0 takes none.
	Interval int64 `mapstructure:"interval"`
	// KeepRecent: how many snapshots stay on disk.
	KeepRecent int `mapstructure:"keep_recent"`
}

// Snapshot defaults. A snapshot every 1,000 blocks keeps a joining node's
// block sync after the snapshot short, and costs a validator one export
// per 1,000 blocks; two kept let a node finish fetching the older one.
const (
	DefaultSnapshotInterval = 1000
	DefaultSnapshotKeep     = 2
)

// DefaultAppConfig is the configuration of a home without app.toml.
func DefaultAppConfig() AppConfig {
	return AppConfig{Snapshots: SnapshotConfig{Interval: DefaultSnapshotInterval, KeepRecent: DefaultSnapshotKeep}}
}

// AppConfigFile is the application's settings file.
func (h Home) AppConfigFile() string { return filepath.Join(h.ConfigDir(), "app.toml") }

// SnapshotDir holds the node's snapshots, one directory per height.
func (h Home) SnapshotDir() string { return filepath.Join(h.DataDir(), "snapshots") }

// LoadAppConfig reads app.toml; a home without one (made before the file
// existed) gets the defaults.
func LoadAppConfig(h Home) (AppConfig, error) {
	c := DefaultAppConfig()
	if _, err := os.Stat(h.AppConfigFile()); errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	v := viper.New()
	v.SetConfigFile(h.AppConfigFile())
	v.SetConfigType("toml")
	if err := v.ReadInConfig(); err != nil {
		return c, fmt.Errorf("config file %s is invalid: %w", h.AppConfigFile(), err)
	}
	if err := v.Unmarshal(&c); err != nil {
		return c, fmt.Errorf("config file %s is invalid: %w", h.AppConfigFile(), err)
	}
	return c, c.check(h)
}

func (c AppConfig) check(h Home) error {
	if c.Snapshots.Interval < 0 || c.Snapshots.KeepRecent < 0 {
		return fmt.Errorf("config file %s: snapshots.interval and keep_recent must not be negative", h.AppConfigFile())
	}
	return nil
}

// writeAppConfig writes app.toml with a comment per setting.
func writeAppConfig(h Home, c AppConfig) error {
	if err := c.check(h); err != nil {
		return err
	}
	text := fmt.Sprintf(`# phala application settings (CometBFT's own are in config.toml)

[snapshots]
# Take a state-sync snapshot every interval blocks, for new nodes to join
# from (0: take none). Written under data/snapshots/<height>.
interval = %d
# How many snapshots to keep on disk.
keep_recent = %d
`, c.Snapshots.Interval, c.Snapshots.KeepRecent)
	if err := os.WriteFile(h.AppConfigFile(), []byte(text), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", h.AppConfigFile(), err)
	}
	return nil
}
