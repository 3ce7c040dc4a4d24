package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// roomIDShape is the shape of every room id (docs/api.md).
var roomIDShape = regexp.MustCompile(`^[a-z0-9]{10}$`)

// hostingRecord is what `watchparty host` keeps in the state dir while a party runs, and
// removes when it ends cleanly. Found at the next start, it means the last party ended in a
// crash (kill -9, a power cut): host then says how to resume that room instead of quietly
// making a new one that the friends, reconnecting to the old room, would never find.
type hostingRecord struct {
	RoomID  string    `json:"room_id"`
	Title   string    `json:"title"`
	Media   string    `json:"media"` // as given to --media ("" for the demo clip)
	Started time.Time `json:"started"`
}

func hostingFile(stateDir string) string { return filepath.Join(stateDir, "hosting.json") }

// readHosting returns the record of a party that did not end cleanly, or nil.
func readHosting(stateDir string) *hostingRecord {
	b, err := os.ReadFile(hostingFile(stateDir))
	if err != nil {
		return nil
	}
	var r hostingRecord
	if json.Unmarshal(b, &r) != nil || !roomIDShape.MatchString(r.RoomID) {
		return nil // unreadable: nothing to offer
	}
	return &r
}

// writeHosting records the party now running.
func writeHosting(stateDir string, r hostingRecord) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := hostingFile(stateDir) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, hostingFile(stateDir))
}

// clearHosting forgets the record: the party ended cleanly.
func clearHosting(stateDir string) {
	if err := os.Remove(hostingFile(stateDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "watchparty: %v\n", err)
	}
}

// resumeHint is the error `host` gives when the last party ended uncleanly.
func resumeHint(r *hostingRecord) error {
	media := r.Media
	if media == "" {
		media = "<your video>"
	} else if strings.ContainsAny(media, " \t'\"") {
		media = "'" + strings.ReplaceAll(media, "'", `'\''`) + "'"
	}
	return usageErrorf("your last party (room %s, %q, started %s) did not end cleanly: resume it with "+
		"\"watchparty host --room %s --media %s\" (your friends are still in that room), or pass --new to start a new room",
		r.RoomID, r.Title, r.Started.Local().Format("Jan 2 15:04"), r.RoomID, media)
}
