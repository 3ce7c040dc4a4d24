package room

import (
	"os"

	"github.com/watchparty/watchparty/party"
)

// This file is "Same file?" (docs/design.md §7.10): our beats report a private fingerprint of
// the media our mpv plays and its duration; member rows carry everyone's, and a member whose
// file differs from the host's is marked in the list with a notice that says how.

// mediaReport is what our beats say of our media. FP is "" for a URL (nothing to fingerprint),
// which clears what an earlier file reported.
type mediaReport struct {
	FP       string
	Duration float64
}

// mediaState is the loop's part of it: the report to send, whether the server has it, and
// what each member's difference was last told as.
type mediaState struct {
	report  *mediaReport // nil until our media is loaded and fingerprinted
	sent    bool         // a beat with report succeeded
	inBeat  *mediaReport // the report of the beat in flight
	told    map[string]string
	pending bool // a fingerprint is being computed
}

// mediaFingerprinted: the fingerprint of our media was computed (or failed).
type mediaFingerprinted struct {
	report mediaReport
	err    error
}

// FingerprintFile is the private fingerprint of the local file at path for roomID
// (party.Fingerprint).
func FingerprintFile(path, roomID string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	return party.Fingerprint(f, st.Size(), roomID)
}

// fingerprintMedia computes the report of what our mpv has loaded, off the loop: a local file
// is fingerprinted; the room's URL, or a URL of ours, has no fingerprint.
func (s *Session) fingerprintMedia(e *engine, duration float64) {
	media := s.opts.Media
	if media == "" || e.media.pending {
		return
	}
	e.media.pending = true
	local := !s.roomMedia && party.CheckMediaURL(media) != nil
	roomID := s.opts.RoomID
	s.goTask(func() {
		r := mediaReport{Duration: duration}
		var err error
		if local {
			r.FP, err = FingerprintFile(media, roomID)
		}
		s.post(mediaFingerprinted{report: r, err: err})
	})
}

func (s *Session) onMediaFingerprinted(e *engine, m mediaFingerprinted) {
	e.media.pending = false
	if m.err != nil {
		s.log.Warn("media fingerprint", "err", m.err)
		return
	}
	if r := e.media.report; r != nil && *r == m.report {
		return
	}
	e.media.report, e.media.sent = &m.report, false
	s.liveness(e) // tell the room now, not at the next beat
}

// beatMedia is the report the next beat carries: ours until a beat has carried it.
func (e *engine) beatMedia() *mediaReport {
	if e.media.report == nil || e.media.sent {
		return nil
	}
	r := *e.media.report
	return &r
}

// checkMedia compares every member's media with the host's, for the notices: a member whose
// difference is new (or changed) is told once.
func (s *Session) checkMedia(e *engine) {
	host, ok := e.pres.members.Get(e.room.HostUserID)
	if e.media.told == nil {
		e.media.told = map[string]string{}
	}
	for _, m := range e.pres.members.List() {
		what := ""
		if ok && m.UserID != host.UserID {
			_, what = party.MediaDiff(host.MediaFP, host.MediaDuration, m.MediaFP, m.MediaDuration)
		}
		if what == e.media.told[m.UserID] {
			continue
		}
		e.media.told[m.UserID] = what
		if what != "" {
			s.events.push(Notice{NoticeWarn, party.MediaNotice(Sanitize(m.Username), m.UserID == e.selfID, what)})
		}
	}
}

// mediaParams are a beat's RPC arguments for r (none when nil).
func mediaParams(args map[string]any, r *mediaReport) map[string]any {
	if r == nil {
		return args
	}
	args["p_media_fp"] = r.FP
	if r.Duration > 0 && r.Duration <= party.MaxPosition {
		args["p_media_duration"] = r.Duration
	}
	return args
}
