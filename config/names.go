package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// namesFile keeps the display name a person chose per server: {"server key": "name"}. A
// server key is the server's identity (room.Server.SessionKey), so the name follows the
// server whatever URL reaches it.
func (p Paths) namesFile() string { return filepath.Join(p.State, "names.json") }

func (p Paths) readNames() (map[string]string, error) {
	names := map[string]string{}
	b, err := os.ReadFile(p.namesFile())
	if errors.Is(err, os.ErrNotExist) {
		return names, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &names); err != nil || names == nil {
		return map[string]string{}, nil // unreadable: as if nothing was saved
	}
	return names, nil
}

// SavedName is the display name last chosen (with --name) for the server with this key, ""
// when none was.
func (p Paths) SavedName(server string) string {
	names, err := p.readNames()
	if err != nil {
		return ""
	}
	return names[server]
}

// SaveName remembers name as the one chosen for the server with this key (a 0600 file,
// written atomically).
func (p Paths) SaveName(server, name string) error {
	names, err := p.readNames()
	if err != nil {
		return err
	}
	if names[server] == name {
		return nil
	}
	names[server] = name
	b, err := json.MarshalIndent(names, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.State, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(p.State, ".names-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p.namesFile())
}
