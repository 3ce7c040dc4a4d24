//go:build linux

package player

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// These tests play a hostile room: its media URL is an ordinary http URL (the only kind the
// client loads), but what the server behind it returns tries to make mpv open files on this
// machine. A watcher (inotify) sees every open of a file in the directory that holds them.

// openWatch reports the names of files opened or created in one directory.
type openWatch struct {
	fd   int
	mu   sync.Mutex
	seen []string
	done chan struct{}
}

func watchOpens(t *testing.T, dir string) *openWatch {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_OPEN|syscall.IN_CREATE); err != nil {
		syscall.Close(fd)
		t.Fatalf("inotify watch: %v", err)
	}
	w := &openWatch{fd: fd, done: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		defer close(w.done)
		buf := make([]byte, 64*1024)
		for {
			n, err := syscall.Read(fd, buf)
			if n > 0 {
				w.parse(buf[:n])
			}
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-w.done
		syscall.Close(fd)
	})
	return w
}

func (w *openWatch) parse(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(b) >= syscall.SizeofInotifyEvent {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := syscall.SizeofInotifyEvent + int(ev.Len)
		if end > len(b) {
			return
		}
		name := strings.TrimRight(string(b[syscall.SizeofInotifyEvent:end]), "\x00")
		w.seen = append(w.seen, name)
		b = b[end:]
	}
}

// names waits until the watcher has read the events queued so far and returns the names.
func (w *openWatch) names() []string {
	time.Sleep(20 * time.Millisecond) // four read rounds: events already queued are in
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// waitIdle waits until mpv has nothing left to play (every playlist entry tried).
func waitIdle(t *testing.T, p *Player, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var idle bool
		if err := p.GetProperty(context.Background(), "idle-active", &idle); err != nil {
			t.Fatalf("idle-active: %v", err)
		}
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mpv still busy after %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadUntrustedNeverOpensLocalFiles(t *testing.T) {
	t.Parallel()
	clip := testMedia(t)
	p := launchTest(t, LaunchOptions{})
	dir := t.TempDir()
	local := filepath.Join(dir, "local.mp4")
	copyFile(t, clip, local)
	pwned := filepath.Join(dir, "pwned.txt")

	var requests atomic.Int64
	pages := map[string]string{
		// A playlist: a path, a file:// URL, and the av:// filter that writes files.
		"/list.m3u": "#EXTM3U\n" + local + "\nfile://" + local + "\n" +
			"av://lavfi:testsrc=duration=1,metadata=mode=print:file=" + pwned + "\n",
		"/list.pls": "[playlist]\nFile1=" + local + "\nNumberOfEntries=1\n",
		// An EDL served over http, and an edl:// entry in a playlist.
		"/film.edl":     "# mpv EDL v0\n" + local + ",0,2\n",
		"/edl.m3u":      "#EXTM3U\nedl://" + local + ",0,2\n",
		"/hls.m3u8":     "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXT-X-VERSION:3\n#EXTINF:5.0,\nfile://" + local + "\n#EXT-X-ENDLIST\n",
		"/metadata.m3u": "av://lavfi:sine=duration=1,metadata=mode=print:file=" + pwned + "\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "file://"+local, http.StatusFound)
			return
		}
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	watch := watchOpens(t, dir)

	for _, path := range []string{"/list.m3u", "/list.pls", "/film.edl", "/edl.m3u", "/hls.m3u8", "/metadata.m3u", "/redirect"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := p.LoadUntrusted(ctx, srv.URL+path, 0, true)
		cancel()
		// The load may "succeed" (an EDL or HLS whose parts were all refused is an empty
		// file) or fail; either way mpv must not have touched the directory.
		t.Logf("%s: %v", path, err)
		waitIdle(t, p, 30*time.Second)
		if seen := watch.names(); len(seen) > 0 {
			t.Fatalf("%s: mpv opened %q", path, seen)
		}
	}
	if _, err := os.Stat(pwned); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (%v)", pwned, err)
	}
	if requests.Load() == 0 {
		t.Fatal("mpv never asked the server for anything")
	}

	// The watcher does see mpv open a file: the same playlist as a local file of the user's
	// own, loaded as trusted, opens local.mp4.
	own := filepath.Join(t.TempDir(), "own.m3u")
	if err := os.WriteFile(own, []byte("#EXTM3U\n"+local+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = p.Load(ctx, own, 0, true) // replaced by its entry
	deadline := time.Now().Add(10 * time.Second)
	for !contains(watch.names(), "local.mp4") {
		if time.Now().After(deadline) {
			t.Fatalf("control: the watcher saw no open of local.mp4 (saw %q)", watch.names())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// An mpv told to load unsafe playlists (the user's mpv.conf, --mpv-arg, or an mpv we attached
// to) gets no room URL at all.
func TestLoadUntrustedRefusesUnsafePlaylists(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{ExtraArgs: []string{"--load-unsafe-playlists=yes"}})
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, "#EXTM3U\n/etc/hostname\n")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.LoadUntrusted(ctx, srv.URL+"/list.m3u", 0, true)
	if !errors.Is(err, ErrUnsafePlaylists) {
		t.Fatalf("LoadUntrusted = %v, want ErrUnsafePlaylists", err)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("mpv fetched the URL %d times", n)
	}
	// The default launch sets it off.
	q := launchTest(t, LaunchOptions{})
	var unsafe bool
	if err := q.GetProperty(ctx, "load-unsafe-playlists", &unsafe); err != nil || unsafe {
		t.Fatalf("default launch: load-unsafe-playlists = %v (%v)", unsafe, err)
	}
}

// A URL that accepts the connection and never answers: Load gives up when its context ends
// and stops mpv from opening it later.
func TestLoadGivesUpOnAURLThatNeverAnswers(t *testing.T) {
	t.Parallel()
	p := launchTest(t, LaunchOptions{ExtraArgs: []string{"--ytdl=no"}})
	release := make(chan struct{})
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Load(ctx, srv.URL+"/hang.mp4", 0, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load = %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Load returned after %v", took)
	}
	if asked.Load() == 0 {
		t.Fatal("mpv never asked the server")
	}
	waitIdle(t, p, 5*time.Second)
	if st := p.State(); st.Loaded {
		t.Fatalf("mpv loaded the file after the load was given up: %+v", st)
	}
}

// Seeking far ahead in a stream mpv cannot seek in (no range requests, beyond its cache)
// returns ErrSeekIgnored instead of waiting for a restart that never comes.
func TestSeekOnUnseekableStream(t *testing.T) {
	t.Parallel()
	clip := testMedia(t)
	ts := filepath.Join(t.TempDir(), "clip.ts")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-i", clip, "-c", "copy", "-f", "mpegts", ts).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	// Served at about the clip's own rate, with no length and no range support.
	perTick := len(data) / int(mediaDuration) / 10
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		fl := w.(http.Flusher)
		for i := 0; i < len(data); i += perTick {
			if _, err := w.Write(data[i:min(i+perTick, len(data))]); err != nil {
				return
			}
			fl.Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	}))
	defer srv.Close()
	defer close(stop) // before Close, which waits for the handler
	p := launchTest(t, LaunchOptions{ExtraArgs: []string{"--ytdl=no"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Load(ctx, srv.URL+"/clip.ts", 0, false); err != nil {
		t.Fatal(err)
	}
	if st := p.State(); st.Seekable {
		t.Errorf("mpv reports the stream seekable: %+v", st)
	}
	start := time.Now()
	err = p.Seek(ctx, 25)
	if !errors.Is(err, ErrSeekIgnored) {
		t.Fatalf("Seek = %v, want ErrSeekIgnored", err)
	}
	if took := time.Since(start); took > seekStartTimeout+time.Second {
		t.Fatalf("Seek returned after %v", took)
	}
	if pos := p.Position(); pos > 10 {
		t.Fatalf("position %v after an ignored seek", pos)
	}
}
