package room

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/watchparty/watchparty/party"
	"github.com/watchparty/watchparty/player"
)

// This file is the shared queue (docs/design.md §7.13): the calls of rooms/queue/…, the
// mapping of an entry to a member's own copy (fingerprint in --media-dir, then name), and the
// session's switch to the entry the room plays.

// NewEntry is an entry to add: Title, Duration (0: unknown) and either FP (a local file's
// fingerprint for the room, FingerprintFile) or URL.
type NewEntry struct {
	Title    string
	Duration float64
	FP       string
	URL      string
}

// QueueAdd appends an entry to the room's queue (host only).
func (r *Remote) QueueAdd(ctx context.Context, roomID string, ne NewEntry) (party.QueueEntry, error) {
	body := map[string]any{"room_id": roomID, "title": ne.Title}
	if ne.Duration > 0 {
		body["duration"] = ne.Duration
	}
	if ne.FP != "" {
		body["media_fp"] = ne.FP
	}
	if ne.URL != "" {
		body["media_url"] = ne.URL
	}
	var out struct {
		Entry map[string]any `json:"entry"`
	}
	if err := r.client.Functions.Invoke(ctx, "rooms/queue/add", body, &out); err != nil {
		return party.QueueEntry{}, friendly(roomID, err)
	}
	return party.ParseQueueRow(out.Entry)
}

// QueueRemove removes an entry from the room's queue (host only).
func (r *Remote) QueueRemove(ctx context.Context, roomID string, entryID int64) error {
	return friendly(roomID, r.client.Functions.Invoke(ctx, "rooms/queue/remove", map[string]any{"room_id": roomID, "entry_id": entryID}, nil))
}

// QueueMove moves an entry to index to (0: first) of the queue (host only).
func (r *Remote) QueueMove(ctx context.Context, roomID string, entryID, to int64) error {
	return friendly(roomID, r.client.Functions.Invoke(ctx, "rooms/queue/move", map[string]any{"room_id": roomID, "entry_id": entryID, "to": to}, nil))
}

// QueueNext makes the room play entryID, or (0) the entry after the one playing; with
// fromEntryID only while that entry is still the one playing (host only).
func (r *Remote) QueueNext(ctx context.Context, roomID string, entryID, fromEntryID int64) (party.RoomState, error) {
	body := map[string]any{"room_id": roomID}
	if entryID > 0 {
		body["entry_id"] = entryID
	}
	if fromEntryID > 0 {
		body["from_entry_id"] = fromEntryID
	}
	var out struct {
		Room map[string]any `json:"room"`
	}
	if err := r.client.Functions.Invoke(ctx, "rooms/queue/next", body, &out); err != nil {
		return party.RoomState{}, friendly(roomID, err)
	}
	return party.ParseRoomRow(out.Room)
}

// Queue reads the room's queue (removed entries included), in order.
func (r *Remote) Queue(ctx context.Context, roomID string) ([]party.QueueEntry, error) {
	var rows []map[string]any
	if err := r.client.From("room_queue").Select("*").Eq("room_id", roomID).Order("position", false).Get(ctx, &rows); err != nil {
		return nil, friendly(roomID, err)
	}
	out := make([]party.QueueEntry, 0, len(rows))
	for _, row := range rows {
		if q, err := party.ParseQueueRow(row); err == nil && (q.RoomID == "" || q.RoomID == roomID) {
			out = append(out, q)
		}
	}
	return out, nil
}

// mediaExts are the file name endings a --media-dir scan looks at.
var mediaExts = map[string]bool{".mkv": true, ".mp4": true, ".m4v": true, ".webm": true, ".avi": true, ".mov": true,
	".wmv": true, ".flv": true, ".ts": true, ".m2ts": true, ".mpg": true, ".mpeg": true, ".ogv": true, ".mp3": true,
	".flac": true, ".ogg": true, ".opus": true, ".m4a": true, ".wav": true}

// maxScanFiles bounds a --media-dir scan (files looked at, all directories together).
const maxScanFiles = 10000

// FindCopy finds a member's own copy of entry e in dirs (searched with their subdirectories):
// the file whose fingerprint for roomID is e's, else one whose name without its extension is
// e's title (case and surrounding spaces aside). "" when none is found.
func FindCopy(dirs []string, roomID string, e party.QueueEntry) string {
	var files []string
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || len(files) >= maxScanFiles {
				return filepath.SkipDir
			}
			if !d.IsDir() && mediaExts[strings.ToLower(filepath.Ext(path))] {
				files = append(files, path)
			}
			return nil
		})
	}
	slices.Sort(files)
	if e.FP != "" {
		for _, f := range files {
			if fp, err := FingerprintFile(f, roomID); err == nil && fp == e.FP {
				return f
			}
		}
	}
	title := strings.ToLower(strings.TrimSpace(e.Title))
	for _, f := range files {
		if name := filepath.Base(f); title != "" && strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name))) == title {
			return f
		}
	}
	return ""
}

// describeEntry is an entry for a notice: its title, sanitised.
func describeEntry(e party.QueueEntry) string {
	if t := Sanitize(e.Title); t != "" {
		return fmt.Sprintf("%q", t)
	}
	return fmt.Sprintf("entry %d", e.ID)
}

// queueState is the loop's part of the queue.
type queueState struct {
	switching  bool  // the room's new entry is being resolved or loaded: no corrections meanwhile
	advancing  bool  // our auto-advance call is in flight
	endedEntry int64 // the entry whose end we last advanced from (once per entry)
	entryID    int64 // the entry being switched to
}

type (
	// entryResolved: the room's new entry was read and mapped to our media ("" when none).
	entryResolved struct {
		entry     party.QueueEntry
		media     string
		roomMedia bool // media is the entry's URL (loaded untrusted)
		err       error
	}
	// entryLoaded: our mpv opened the new entry's media.
	entryLoaded struct {
		entryID int64
		err     error
	}
	// queueAdvanced: our auto-advance call returned.
	queueAdvanced struct {
		room party.RoomState
		err  error
	}
)

// switchEntry starts the switch to the entry the room now plays: read it, find our media for
// it (a URL after the same checks and question as a room's URL; a local file by fingerprint
// in MediaDirs, our own --media included, then by name), then load it at the room's position.
func (s *Session) switchEntry(e *engine) {
	e.queue.switching, e.queue.entryID = true, e.room.QueueEntryID
	id, roomID, dirs, own := e.room.QueueEntryID, s.opts.RoomID, s.opts.MediaDirs, s.opts.Media
	ownIsFile := !s.roomMedia && party.CheckMediaURL(own) != nil
	s.goTask(func() {
		ctx := s.ctx
		entries, err := s.be.Queue(ctx, roomID)
		r := entryResolved{err: err}
		for _, q := range entries {
			if q.ID == id {
				r.entry = q
			}
		}
		if err == nil && r.entry.ID == 0 {
			r.err = fmt.Errorf("the room plays entry %d, which is not in its queue", id)
		}
		switch {
		case r.err != nil:
		case r.entry.URL != "":
			if r.err = acceptRoomMedia(ctx, s.opts, r.entry.URL); r.err == nil {
				r.media, r.roomMedia = r.entry.URL, true
			}
		case ownIsFile && r.entry.FP != "":
			if fp, ferr := FingerprintFile(own, roomID); ferr == nil && fp == r.entry.FP {
				r.media = own
				break
			}
			r.media = FindCopy(dirs, roomID, r.entry)
		default:
			r.media = FindCopy(dirs, roomID, r.entry)
		}
		s.post(r)
	})
}

func (s *Session) onEntryResolved(e *engine, m entryResolved) {
	if m.entry.ID != 0 && m.entry.ID != e.room.QueueEntryID {
		return // the room moved on meanwhile; that switch is under way
	}
	switch {
	case m.err != nil:
		e.queue.switching = false
		s.events.push(Notice{NoticeError, "the room plays another entry but it cannot be opened: " + m.err.Error()})
		return
	case m.media == "":
		e.queue.switching = false
		s.events.push(Notice{NoticeWarn, fmt.Sprintf("the room plays %s: no copy of it found (pass --media-dir DIR)", describeEntry(m.entry))})
		return
	}
	s.opts.Media, s.roomMedia = m.media, m.roomMedia
	p := s.player
	start := e.room.ExpectedPosition(e.clock.ServerNow(s.now()))
	if !e.isHost() {
		start += e.aheadFor()
	}
	paused, id := !e.room.IsPlaying, m.entry.ID
	title := describeEntry(m.entry)
	s.goTask(func() {
		err := s.load(s.ctx, p, start, paused)
		s.post(entryLoaded{entryID: id, err: err})
	})
	s.events.push(Notice{NoticeInfo, "now playing " + title})
}

func (s *Session) onEntryLoaded(e *engine, m entryLoaded) {
	if m.entryID != e.room.QueueEntryID {
		return
	}
	e.queue.switching = false
	if m.err != nil {
		s.events.push(Notice{NoticeError, m.err.Error()})
		return
	}
	e.fol.drift.Reset()
	if e.isHost() {
		s.applyRoomToHost(e) // a play or seek during the load: our mpv takes the room as it is now
		return
	}
	s.correct(e)
}

// checkEntryEnd advances when our mpv sits at the end of the entry (host only): the end-of-file
// event does too, but one that arrives while a switch or an advance is in flight is not lost.
func (s *Session) checkEntryEnd(e *engine) {
	if p := s.player; p != nil && e.isHost() && e.room.QueueEntryID != 0 && !e.relaunching && !e.queue.advancing &&
		!e.queue.switching && p.State().EndOfFile && e.queue.endedEntry != e.room.QueueEntryID {
		s.autoAdvance(e)
	}
}

// autoAdvance moves the room on at the end of an entry (host only): queue/next from the entry
// that ended, so that a repeated call never skips two.
func (s *Session) autoAdvance(e *engine) {
	if !e.isHost() || e.room.QueueEntryID == 0 || e.queue.advancing || e.queue.switching {
		return
	}
	e.queue.advancing, e.queue.endedEntry = true, e.room.QueueEntryID
	roomID, from := s.opts.RoomID, e.room.QueueEntryID
	s.goTask(func() {
		ctx, cancel := context.WithTimeout(s.ctx, serverTimeout)
		defer cancel()
		st, err := s.be.QueueNext(ctx, roomID, 0, from)
		s.post(queueAdvanced{room: st, err: err})
	})
}

func (s *Session) onQueueAdvanced(e *engine, m queueAdvanced) {
	e.queue.advancing = false
	if m.err != nil {
		s.events.push(Notice{NoticeInfo, "end of the queue: " + m.err.Error()})
		return
	}
	s.onRoomState(e, m.room)
}

// ProbeDuration opens path in a windowless, silent mpv (binary: "" for mpv on PATH) to read its
// length in seconds, for a queue entry of a local file.
func ProbeDuration(ctx context.Context, binary, path string) (float64, error) {
	p, err := player.Launch(ctx, player.LaunchOptions{Binary: binary, NoWindow: true,
		ExtraArgs: []string{"--vo=null", "--ao=null", "--mute=yes"}})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	if err := p.Load(ctx, path, 0, true); err != nil {
		return 0, err
	}
	return p.Duration(), nil
}
