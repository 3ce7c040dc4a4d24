package syncbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/watchparty/watchparty/room"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClientCommand builds the command that runs the watchparty binary with args (the benchmark
// runs `watchparty join …` as a separate process to measure what a client costs).
type ClientCommand func(args ...string) *exec.Cmd

// ClientCost is what one watchparty process following a room costs while it plays, mpv
// excluded: read from /proc over the steady window.
type ClientCost struct {
	// NA says why there is no figure ("" when there is).
	NA string
	// CPU is the process's user+system CPU time over the window, in % of one core.
	CPU float64
	// RSSMax and RSSMean are its resident set size (VmRSS) sampled every 500 ms, in MB.
	RSSMax, RSSMean float64
	Window          time.Duration
}

// costClient is `watchparty join ROOM --headless` run as a separate process, with its /proc
// readings.
type costClient struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	inSync chan struct{} // closed at the first "sync" line with in_sync true
	exited chan struct{} // closed when the process has ended

	start    time.Time
	startCPU time.Duration
	mu       sync.Mutex
	rss      []float64
	stop     chan struct{}
	sampling sync.WaitGroup
}

// startCostClient runs the extra follower as its own process (its own home dir under dir,
// so its own user) and waits until it says it is in sync with the room.
// It joins with the room's invite link, as a friend does.
func startCostClient(ctx context.Context, run ClientCommand, serverURL, roomID, secret, media, dir string) (*costClient, error) {
	home, err := os.MkdirTemp(dir, "client-home-")
	if err != nil {
		return nil, err
	}
	server, err := room.ParseServerURL(serverURL)
	if err != nil {
		return nil, err
	}
	link := room.InviteLink{Server: server, RoomID: roomID, Secret: secret}.String()
	cmd := run("join", link, "--media", media, "--name", "costprobe",
		"--headless", "--json", "--mpv-arg=--vo=null", "--mpv-arg=--ao=null")
	cmd.Env = append(os.Environ(), "WATCHPARTY_HOME="+home, "NO_COLOR=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &costClient{cmd: cmd, inSync: make(chan struct{}), exited: make(chan struct{}), stop: make(chan struct{})}
	cmd.Stderr = &c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the extra follower: %w", err)
	}
	go func() {
		c.readEvents(out)
		cmd.Wait()
		close(c.exited)
	}()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case <-c.inSync:
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("the extra follower (watchparty join) ended before it was in sync: %s", strings.TrimSpace(tail(c.stderr.Bytes(), 400)))
	case <-wctx.Done():
		c.end()
		return nil, fmt.Errorf("the extra follower (watchparty join) was not in sync within 30 s: %w", wctx.Err())
	}
}

// readEvents reads the JSON lines of --headless --json until the process ends.
func (c *costClient) readEvents(r io.Reader) {
	sc := bufio.NewScanner(r)
	closed := false
	for sc.Scan() {
		var ev struct {
			Type   string `json:"type"`
			InSync bool   `json:"in_sync"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == "sync" && ev.InSync && !closed {
			close(c.inSync)
			closed = true
		}
	}
	io.Copy(io.Discard, r)
}

// begin starts the measured window.
func (c *costClient) begin() {
	c.start = time.Now()
	c.startCPU, _ = procCPU(c.cmd.Process.Pid)
	c.sampling.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			if kb, err := procRSS(c.cmd.Process.Pid); err == nil {
				c.mu.Lock()
				c.rss = append(c.rss, kb/1024)
				c.mu.Unlock()
			}
			select {
			case <-c.stop:
				return
			case <-c.exited:
				return
			case <-t.C:
			}
		}
	})
}

// finish ends the measured window and returns the figures.
func (c *costClient) finish() ClientCost {
	cpu, err := procCPU(c.cmd.Process.Pid)
	wall := time.Since(c.start)
	close(c.stop)
	c.sampling.Wait()
	if err != nil {
		return ClientCost{NA: "the extra follower's /proc entry could not be read: " + err.Error()}
	}
	cost := ClientCost{Window: wall, CPU: 100 * (cpu - c.startCPU).Seconds() / wall.Seconds()}
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum float64
	for _, v := range c.rss {
		sum += v
		cost.RSSMax = max(cost.RSSMax, v)
	}
	if len(c.rss) > 0 {
		cost.RSSMean = sum / float64(len(c.rss))
	}
	return cost
}

// end asks the process to leave the room (SIGINT, as Ctrl-C) and waits for it; after 10 s
// it is killed.
func (c *costClient) end() {
	if runtime.GOOS == "windows" {
		c.cmd.Process.Kill()
	} else {
		c.cmd.Process.Signal(os.Interrupt)
	}
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// procCPU is a process's user + system CPU time from /proc/PID/stat (Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count fields after
	// its closing one. utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on
	// Linux).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const userHZ = 100
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// procRSS is a process's VmRSS from /proc/PID/status, in kB (Linux).
func procRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseFloat(f[0], 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
