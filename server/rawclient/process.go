package rawclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is `watchparty serve` running as a child process.
type Process struct {
	// URL is the server's base URL and AnonKey its anon key, as it printed them.
	URL, AnonKey string
	cmd          *exec.Cmd
	stderr       lockedBuffer
	waited       chan struct{}
	waitErr      error

	// MetricsURL is its metrics address when started with --metrics-listen (SpawnArgs).
	MetricsURL string
}

// Spawn starts `<bin> serve --listen 127.0.0.1:0 --data dataDir`, with env added to this
// process's environment, and waits (up to 30 s) until it prints its URL and anon key.
func Spawn(ctx context.Context, bin, dataDir string, env ...string) (*Process, error) {
	return SpawnArgs(ctx, bin, dataDir, nil, env...)
}

// SpawnArgs is Spawn with more arguments for serve (e.g. --metrics-listen 127.0.0.1:0).
func SpawnArgs(ctx context.Context, bin, dataDir string, args []string, env ...string) (*Process, error) {
	p := &Process{cmd: exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dataDir}, args...)...), waited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.waited)
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for p.URL == "" || p.AnonKey == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				p.Kill()
				return nil, fmt.Errorf("serve exited before printing its URL and key: %s", p.Stderr())
			}
			if u, ok := strings.CutPrefix(line, "watchparty server listening on "); ok {
				p.URL = u
			}
			if m, ok := strings.CutPrefix(line, "metrics on "); ok {
				p.MetricsURL = m
			}
			if k, ok := strings.CutPrefix(line, "anon key: "); ok {
				p.AnonKey = k
			}
		case <-ctx.Done():
			p.Kill()
			return nil, fmt.Errorf("serve printed no URL: %w: %s", ctx.Err(), p.Stderr())
		}
	}
	go func() {
		for range lines { // keep draining stdout so the child never blocks on it
		}
	}()
	return p, nil
}

// PID is the child's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stderr returns what the child wrote to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Kill sends SIGKILL and waits for the child to end.
func (p *Process) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.waited
}

// Stop sends SIGTERM and waits (up to timeout, then SIGKILL) for the child to end; it returns
// the child's exit error (nil for exit status 0).
func (p *Process) Stop(timeout time.Duration) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
		return p.waitErr
	case <-time.After(timeout):
		p.Kill()
		return errors.New("serve did not stop after SIGTERM")
	}
}

// RSS returns the resident set size of process pid in bytes, from /proc (Linux only).
func RSS(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// CPUTime returns the user plus system CPU time process pid has used, from /proc (Linux only;
// USER_HZ is taken to be 100, as on every Linux build in use).
func CPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields after it start at the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
