//go:build !windows

package room_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/room"
)

// The shared queue with real mpv: a host and two followers, a queue of two local clips (the
// followers' copies found through their --media-dir under other names), an entry that is
// removed and a URL served by a local HTTP server. The first clip ends: everyone is on the
// second together; queue next skips to the URL for everyone; the removed entry never plays.
func TestQueueAutoAdvanceAndSkip(t *testing.T) {
	testClip(t) // skips without mpv and ffmpeg
	dir := t.TempDir()
	clip := func(name string, seconds int) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := syncbench.MakeClip(p, seconds); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostDir := filepath.Join(dir, "alice")
	if err := os.Mkdir(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := clip("alice/first.mp4", 5)
	b := clip("alice/second.mp4", 30)
	removed := clip("alice/removed.mp4", 29) // not 30 s: MakeClip makes the same bytes for the same length
	clip("web.mp4", 28)
	dirs := map[string]string{"alice": hostDir}
	copies := map[string]map[string]string{} // member → file of the host → their copy
	for _, name := range []string{"bob", "carol"} {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs[name] = d
		copies[name] = map[string]string{}
		for i, src := range []string{a, b, removed} {
			dst := filepath.Join(d, fmt.Sprintf("%s copy %d.mp4", name, i+1))
			copyFile(t, src, dst)
			copies[name][src] = dst
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpSrv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go httpSrv.Serve(ln)
	t.Cleanup(func() { httpSrv.Close() })
	webURL := "http://" + ln.Addr().String() + "/web.mp4"

	p := newParty(t)
	p.pt.Media = a
	p.pt.Options = func(name string, o *room.Options) {
		o.MediaDirs = []string{dirs[name]}
		o.ConfirmMedia = func(context.Context, string) (bool, error) { return true, nil }
		if c := copies[name]; c != nil {
			o.Media = c[a]
		}
	}
	host := p.host("alice")
	roomID := host.Session.Snapshot().RoomID
	bob, carol := p.join(roomID, "bob"), p.join(roomID, "carol")
	everyone := []*member{host, bob, carol}

	r, err := room.Connect(p.ctx, host.Server)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	add := func(ne room.NewEntry) int64 {
		t.Helper()
		q, err := r.QueueAdd(p.ctx, roomID, ne)
		if err != nil {
			t.Fatalf("queue add %q: %v", ne.Title, err)
		}
		return q.ID
	}
	fp := func(path string) string {
		t.Helper()
		s, err := room.FingerprintFile(path, roomID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := add(room.NewEntry{Title: "first.mp4", Duration: 5, FP: fp(a)})
	add(room.NewEntry{Title: "second.mp4", Duration: 30, FP: fp(b)})
	gone := add(room.NewEntry{Title: "removed.mp4", Duration: 30, FP: fp(removed)})
	add(room.NewEntry{Title: "web", Duration: 30, URL: webURL})
	if err := r.QueueRemove(p.ctx, roomID, gone); err != nil {
		t.Fatal(err)
	}

	// Each member's mpv path, watched on its own connection: when it changed, and to what.
	type change struct {
		path string
		at   time.Time
	}
	var mu sync.Mutex
	paths := map[string][]change{}
	wctx, stop := context.WithCancel(p.ctx)
	var watchers sync.WaitGroup
	for _, m := range everyone {
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			last := ""
			for wctx.Err() == nil {
				var path string
				if err := m.probe.Property(wctx, "path", &path); err == nil && path != last {
					last = path
					mu.Lock()
					paths[m.Name] = append(paths[m.Name], change{path, time.Now()})
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	defer func() { stop(); watchers.Wait() }()
	seen := func(m *member) string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprint(paths[m.Name])
	}
	on := func(m *member, path string) (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range paths[m.Name] {
			if c.path == path {
				return c.at, true
			}
		}
		return time.Time{}, false
	}
	want := func(m *member, hostFile string) string {
		if c := copies[m.Name]; c != nil {
			return c[hostFile]
		}
		return hostFile
	}
	everyoneOn := func(what string, file func(*member) string) []time.Time {
		t.Helper()
		defer func() {
			if t.Failed() {
				for _, m := range everyone {
					var pos, eof, pause any
					m.probe.Property(p.ctx, "time-pos", &pos)
					m.probe.Property(p.ctx, "eof-reached", &eof)
					m.probe.Property(p.ctx, "pause", &pause)
					t.Logf("%s's notices: %q; time-pos %v eof %v pause %v; session %+v", m.Name, m.Notices(), pos, eof, pause, m.Session.Snapshot().Sync)
				}
			}
		}()
		var at []time.Time
		p.waitFor(60*time.Second, "everyone plays "+what, func() (bool, string) {
			at = at[:0]
			for _, m := range everyone {
				when, ok := on(m, file(m))
				if !ok {
					return false, fmt.Sprintf("%s is not on %s yet (mpv played %s)", m.Name, file(m), seen(m))
				}
				at = append(at, when)
			}
			return true, ""
		})
		return at
	}

	if _, err := r.QueueNext(p.ctx, roomID, first, 0); err != nil {
		t.Fatal(err)
	}
	for _, m := range everyone {
		p.notice(m, `now playing "first.mp4"`, 30*time.Second)
	}
	if err := host.Session.TogglePlay(p.ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSynced(60*time.Second, "everyone plays the first entry", host, bob, carol)

	// The first entry (5 s) ends: the room moves to the second for everyone.
	at := everyoneOn("the second entry", func(m *member) string { return want(m, b) })
	t.Logf("auto-advance: on the second entry within %v of each other (uptime: %s)", spread(at), uptime())
	if s := spread(at); s > time.Second {
		t.Errorf("members reached the second entry %v apart, want within 1 s", s)
	}
	p.waitSynced(60*time.Second, "everyone follows the second entry", host, bob, carol)
	p.notice(bob, `now playing "second.mp4"`, 10*time.Second)

	// queue next skips the second entry: the removed one is passed over, the URL plays.
	if _, err := r.QueueNext(p.ctx, roomID, 0, 0); err != nil {
		t.Fatal(err)
	}
	at = everyoneOn("the URL", func(*member) string { return webURL })
	t.Logf("queue next: on the URL within %v of each other", spread(at))
	p.waitSynced(60*time.Second, "everyone follows the URL", host, bob, carol)
	for _, m := range everyone {
		if _, ok := on(m, want(m, removed)); ok {
			t.Errorf("%s played the removed entry", m.Name)
		}
	}
}

// spread is the time between the earliest and the latest of at.
func spread(at []time.Time) time.Duration {
	lo, hi := at[0], at[0]
	for _, t := range at {
		if t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	return hi.Sub(lo)
}

// uptime is the load averages, for figures measured in tests.
func uptime() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return string(b[:len(b)-1])
}
