package player

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultStartTimeout bounds how long Launch waits for mpv's IPC socket.
// mpv 0.35 answers in about 170 ms; a cold start (fonts, GPU) takes longer.
const DefaultStartTimeout = 15 * time.Second

// dialInterval is how often Launch retries connecting while mpv starts.
const dialInterval = 10 * time.Millisecond

// LaunchOptions configures Launch. The zero value starts "mpv" from PATH on
// a private socket.
type LaunchOptions struct {
	// Binary is the mpv executable, a name looked up in PATH or a path.
	// Default "mpv".
	Binary string
	// Socket is the IPC socket path (a pipe name such as
	// `\\.\pipe\mpv` on Windows). If an mpv already listens there, Launch
	// attaches to it instead of starting one. Default: a fresh private path
	// per Player, removed by Close.
	Socket string
	// ExtraArgs are passed to mpv after the defaults (--idle --keep-open=yes
	// --load-unsafe-playlists=no --force-window), so they can override them;
	// tests pass --vo=null --ao=null.
	ExtraArgs []string
	// NoWindow leaves out --force-window, so mpv opens no window until a
	// file with video plays.
	NoWindow bool
	// Output, if set, receives mpv's stdout and stderr (warnings and errors
	// only). Either way the last few lines are kept for error messages.
	Output io.Writer
	// StartTimeout bounds the wait for mpv's socket. Default
	// DefaultStartTimeout.
	StartTimeout time.Duration
}

// Launch starts mpv and connects to its IPC socket, or attaches to the mpv
// already listening on opts.Socket. ctx bounds only the start; the mpv
// lives until Close (or until it exits by itself). Launch does not return
// before the Player knows mpv's state.
//
// Errors: ErrNotFound when the binary is missing; when mpv exits at start
// the error carries the tail of its output.
func Launch(ctx context.Context, opts LaunchOptions) (*Player, error) {
	if opts.Socket != "" {
		if nc, err := dial(ctx, opts.Socket); err == nil {
			p, err := newPlayer(ctx, nc, opts.Socket, time.Now)
			if err != nil {
				return nil, fmt.Errorf("attach to mpv at %s: %w", opts.Socket, err)
			}
			return p, nil
		}
	}
	bin := opts.Binary
	if bin == "" {
		bin = "mpv"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		if bin == "mpv" {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("%s: %w", bin, ErrNotFound)
	}

	socket := opts.Socket
	var cleanup func()
	if socket == "" {
		if socket, cleanup, err = privateSocket(); err != nil {
			return nil, err
		}
	} else {
		cleanup = func() { removeStaleSocket(opts.Socket) }
	}

	args := []string{
		"--idle=yes",
		"--keep-open=yes",
		"--no-input-terminal", // the terminal belongs to the TUI
		"--msg-level=all=warn",
		// mpv's default, restated so that an mpv.conf cannot turn it on: with it, a playlist
		// or EDL served by a room's URL could open local files and mpv protocols (av://,
		// lavfi) on this machine. See docs/player.md. --mpv-arg can still override it (the
		// user's own choice); LoadUntrusted then refuses room URLs.
		"--load-unsafe-playlists=no",
	}
	if !opts.NoWindow {
		args = append(args, "--force-window=yes")
	}
	args = append(args, opts.ExtraArgs...)
	args = append(args, "--input-ipc-server="+socket) // last: not overridable

	proc, err := startProcess(path, args, opts.Output)
	if err != nil {
		cleanup()
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	startCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, err := connectStarted(startCtx, proc, socket)
	if err != nil {
		proc.kill()
		cleanup()
		return nil, err
	}
	p.proc, p.cleanup = proc, cleanup
	return p, nil
}

// connectStarted dials until mpv listens (a stale socket file refuses
// connections until mpv replaces it, so waiting for the file is not
// enough), failing early if mpv exits.
func connectStarted(ctx context.Context, proc *process, socket string) (*Player, error) {
	tick := time.NewTicker(dialInterval)
	defer tick.Stop()
	for {
		nc, err := dial(ctx, socket)
		if err == nil {
			p, err := newPlayer(ctx, nc, socket, time.Now)
			if err != nil {
				return nil, fmt.Errorf("connect to mpv: %w", err)
			}
			return p, nil
		}
		select {
		case <-proc.exited:
			return nil, fmt.Errorf("mpv exited at start (%v)%s", proc.err, proc.outputTail())
		case <-ctx.Done():
			return nil, fmt.Errorf("mpv did not open its IPC socket %s: %w%s", socket, ctx.Err(), proc.outputTail())
		case <-tick.C:
		}
	}
}

// Attach connects to an mpv already listening on socket (started by the
// user with --input-ipc-server). Close leaves that mpv running.
func Attach(ctx context.Context, socket string) (*Player, error) {
	nc, err := dial(ctx, socket)
	if err != nil {
		return nil, fmt.Errorf("attach to mpv at %s: %w", socket, err)
	}
	p, err := newPlayer(ctx, nc, socket, time.Now)
	if err != nil {
		return nil, fmt.Errorf("attach to mpv at %s: %w", socket, err)
	}
	return p, nil
}

// Bounds of stopping an mpv we started (see process.stop).
const (
	quitReplyTimeout = 500 * time.Millisecond
	quitExitTimeout  = 500 * time.Millisecond
)

// process is an mpv we started.
type process struct {
	cmd      *exec.Cmd
	out      *tailBuffer
	stopping atomic.Bool   // stop has begun: an exit from now on is ours (ExitStopped)
	exited   chan struct{} // closed after Wait returned
	err      error         // Wait's result, set before exited is closed
	reason   ExitReason    // how it ended, set before exited is closed
}

func startProcess(path string, args []string, output io.Writer) (*process, error) {
	tail := &tailBuffer{max: 2048}
	var w io.Writer = tail
	if output != nil {
		w = io.MultiWriter(tail, output)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = w, w
	// mpv may start helpers (yt-dlp) that inherit the output pipe; do not
	// let them hold up Wait once mpv itself is gone.
	cmd.WaitDelay = time.Second
	pr := &process{cmd: cmd, out: tail, exited: make(chan struct{})}
	// spawn ties mpv's life to ours where the system allows (spawn_*.go): if watchparty dies,
	// even by kill -9, mpv goes too.
	err := spawn(cmd, func(err error) {
		pr.err = err
		pr.reason = exitReason(cmd.ProcessState, pr.stopping.Load())
		close(pr.exited)
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("start mpv: %w", err)
	}
	return pr, nil
}

// stop asks mpv to quit over c (its reply awaited at most quitReplyTimeout), then kills it if
// it has not exited within quitExitTimeout, and waits until it is reaped: at most about a
// second in all, so that leaving a session stays bounded with a hung mpv. Only this process is
// signalled.
func (pr *process) stop(c *conn) {
	pr.stopping.Store(true)
	select {
	case <-pr.exited:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), quitReplyTimeout)
	_, err := c.call(ctx, "quit", []any{"quit"}, nil)
	cancel()
	if err == nil {
		select {
		case <-pr.exited:
			return
		case <-time.After(quitExitTimeout):
		}
	}
	pr.kill()
}

// kill signals exactly the process we started and waits until it is reaped.
func (pr *process) kill() {
	pr.stopping.Store(true)
	_ = pr.cmd.Process.Kill()
	<-pr.exited
}

// outputTail formats the last lines mpv printed for an error message.
func (pr *process) outputTail() string {
	s := pr.out.String()
	if s == "" {
		return ""
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return ": " + strings.Join(lines, "; ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		if i := bytes.IndexByte(t.buf, '\n'); i >= 0 {
			t.buf = t.buf[i+1:] // drop the partial first line
		}
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
