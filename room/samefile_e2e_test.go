//go:build !windows

package room_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/room"
)

// copyFile copies src to dst (a member's own copy of the same file, under another name).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// listed returns how m's member list shows name ("" and false when it doesn't list them).
func listed(m *member, name string) (room.MemberView, bool) {
	for _, v := range m.Session.Snapshot().Members {
		if v.Name == name {
			return v, true
		}
	}
	return room.MemberView{}, false
}

// "Same file?" with real mpv: bob plays the host's file under another name (not flagged),
// carol a shorter file and dave another file of the same length: both are flagged on every
// other member's list, with what differs, and told so themselves; nobody is blocked.
func TestSameFileFlagsADifferentFile(t *testing.T) {
	p := newParty(t)
	dir := t.TempDir()
	same := filepath.Join(dir, "my copy.mp4")
	copyFile(t, p.pt.Media, same)
	shorter := filepath.Join(dir, "shorter.mp4")
	if err := syncbench.MakeClip(shorter, clipSeconds-12); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other encode.mp4")
	if err := syncbench.MakeClipRate(other, clipSeconds, 50); err != nil {
		t.Fatal(err)
	}
	host := p.host("alice")
	roomID := host.Session.Snapshot().RoomID
	hostMedia := p.pt.Media
	join := func(name, media string) *member {
		p.pt.Media = media
		defer func() { p.pt.Media = hostMedia }()
		return p.join(roomID, name)
	}
	bob := join("bob", same)
	carol := join("carol", shorter)
	dave := join("dave", other)
	everyone := []*member{host, bob, carol, dave}
	want := map[string]string{"alice": "", "bob": "", "carol": "0:12 shorter", "dave": "same length, different file"}
	took := p.waitFor(60*time.Second, "every list marks carol and dave, and nobody else", func() (bool, string) {
		for _, m := range everyone {
			for name, note := range want {
				v, ok := listed(m, name)
				if !ok {
					return false, fmt.Sprintf("%s does not list %s yet", m.Name, name)
				}
				if v.MediaDiffers != (note != "") || v.MediaNote != note {
					return false, fmt.Sprintf("%s shows %s as differs=%v %q, want %q", m.Name, name, v.MediaDiffers, v.MediaNote, note)
				}
			}
		}
		return true, ""
	})
	t.Logf("every list right %v after the last join", took)
	p.notice(carol, "your copy is 0:12 shorter than the host's", 10*time.Second)
	p.notice(host, "carol's copy is 0:12 shorter than the host's", 10*time.Second)
	p.notice(bob, "dave's copy is the same length as the host's but a different file", 10*time.Second)
	for _, n := range bob.Notices() {
		if strings.Contains(n, "bob's copy") || strings.Contains(n, "your copy") {
			t.Errorf("bob, who plays the host's file, was told %q", n)
		}
	}
	// A warning, not a block: the flagged members follow the host like everyone else.
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(30*time.Second, "everyone follows the play, flagged or not", host, bob, carol, dave)
}

// The room never chooses a member's tracks: a follower's own audio and subtitle choice stays
// through the host's play, seek and pause and the corrections that follow.
func TestRoomNeverSetsTracks(t *testing.T) {
	p := newParty(t)
	tracks := filepath.Join(t.TempDir(), "tracks.mkv")
	makeTrackClip(t, tracks)
	p.pt.Media = tracks
	host := p.host("alice")
	bob := p.join(host.Session.Snapshot().RoomID, "bob")
	for _, prop := range []string{"aid", "sid"} {
		if err := bob.probe.SetProperty(p.ctx, prop, 2); err != nil {
			t.Fatalf("bob chooses %s 2: %v", prop, err)
		}
	}
	tracksOf := func(m *member) string {
		var aid, sid any
		if err := m.probe.Property(p.ctx, "aid", &aid); err != nil {
			t.Fatal(err)
		}
		if err := m.probe.Property(p.ctx, "sid", &sid); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(aid, "/", sid)
	}
	if got := tracksOf(bob); got != "2/2" {
		t.Fatalf("bob's tracks after choosing = %s, want 2/2", got)
	}
	hostTracks := tracksOf(host)
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(30*time.Second, "bob follows the play", host, bob)
	if err := host.Session.SeekTo(p.ctx, 20); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(30*time.Second, "bob follows the seek", host, bob)
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(30*time.Second, "bob follows the pause", host, bob)
	if got := tracksOf(bob); got != "2/2" {
		t.Errorf("bob's tracks after the host's play, seek and pause = %s, want his own 2/2", got)
	}
	if got := tracksOf(host); got != hostTracks {
		t.Errorf("the host's tracks changed from %s to %s", hostTracks, got)
	}
}

// makeTrackClip makes a 30 s clip with two audio tracks and two subtitle tracks.
func makeTrackClip(t *testing.T, path string) {
	t.Helper()
	dir := t.TempDir()
	for _, lang := range []string{"en", "fr"} {
		srt := fmt.Sprintf("1\n00:00:00,000 --> 00:00:30,000\nsubtitle %s\n", lang)
		if err := os.WriteFile(filepath.Join(dir, lang+".srt"), []byte(srt), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=duration=30:size=160x120:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=30",
		"-f", "lavfi", "-i", "sine=frequency=880:duration=30",
		"-i", filepath.Join(dir, "en.srt"), "-i", filepath.Join(dir, "fr.srt"),
		"-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", "-map", "4:s",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-c:s", "srt", "-shortest", path}
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
}

// No code of the session or the player sets a track: the strings mpv's track properties and
// options are named by appear in none of their files (tests excepted).
func TestNoCodeSetsTracks(t *testing.T) {
	for _, dir := range []string{".", "../player"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, lit := range stringLiterals(parsed) {
				s, err := strconv.Unquote(lit)
				if err != nil {
					continue
				}
				switch strings.TrimPrefix(s, "--") {
				case "aid", "sid", "vid", "alang", "slang", "secondary-sid", "track-auto-selection":
					t.Errorf("%s: the string %q names a track property", f, s)
				}
			}
		}
	}
}

// stringLiterals lists the string literals of a file, quoted.
func stringLiterals(f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			out = append(out, lit.Value)
		}
		return true
	})
	return out
}
