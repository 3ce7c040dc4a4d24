// Package config resolves watchparty's per-user files (config, saved sessions, logs, server data)
// and the settings that come from the config file, the environment and flags.
//
// Files live under $WATCHPARTY_HOME when it is set, else under the XDG base directories.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Settings are the values the config file may hold. Flags and environment variables override them.
type Settings struct {
	Server  string `toml:"server"`   // backend URL
	AnonKey string `toml:"anon_key"` // backend anon key (a watchparty server publishes its own)
	Name    string `toml:"name"`     // display name in rooms
	MPV     string `toml:"mpv"`      // mpv binary

	// Unknown lists the keys of the file that are none of the above (ignored).
	Unknown []string `toml:"-"`
}

// Paths are the directories watchparty uses.
type Paths struct {
	Config string // config.toml lives here
	Data   string // embedded server data (database, keys)
	State  string // saved sessions, logs
	Cache  string // demo media
}

// ResolvePaths returns the directories for the current user. It does not create them.
func ResolvePaths() (Paths, error) {
	if home := os.Getenv("WATCHPARTY_HOME"); home != "" {
		return Paths{
			Config: home, Data: filepath.Join(home, "data"),
			State: filepath.Join(home, "state"), Cache: filepath.Join(home, "cache"),
		}, nil
	}
	userHome, err := os.UserHomeDir()
	if err != nil {
		return Paths{}, fmt.Errorf("find your home directory: %w (set WATCHPARTY_HOME)", err)
	}
	xdg := func(env, fallback string) string {
		if v := os.Getenv(env); v != "" && filepath.IsAbs(v) {
			return filepath.Join(v, "watchparty")
		}
		return filepath.Join(userHome, fallback, "watchparty")
	}
	return Paths{
		Config: xdg("XDG_CONFIG_HOME", ".config"),
		Data:   xdg("XDG_DATA_HOME", filepath.Join(".local", "share")),
		State:  xdg("XDG_STATE_HOME", filepath.Join(".local", "state")),
		Cache:  xdg("XDG_CACHE_HOME", ".cache"),
	}, nil
}

// ConfigFile is the path of config.toml.
func (p Paths) ConfigFile() string { return filepath.Join(p.Config, "config.toml") }

// Load reads config.toml; a missing file gives zero Settings. Keys it does not know (a typo,
// a setting of another version) are ignored and listed in Unknown, for a warning.
func Load(p Paths) (Settings, error) {
	var s Settings
	md, err := toml.DecodeFile(p.ConfigFile(), &s)
	if errors.Is(err, os.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read %s: %w", p.ConfigFile(), err)
	}
	for _, k := range md.Undecoded() {
		s.Unknown = append(s.Unknown, k.String())
	}
	return s, nil
}

// Keys are the keys config.toml may hold.
const Keys = "server, anon_key, name, mpv"
