//go:build !windows

package room_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/room"
)

// Tolerances for "in sync" in these tests. They check behaviour, not performance (the
// sync benchmark measures that): a follower following the host is well within them, a
// follower left behind by a seek or a pause is far outside.
const (
	syncTolerance    = 0.15 // s, interpolated positions at the same instant
	rawSyncTolerance = 0.20 // s, raw playback-time (moves in 40 ms frame steps)
)

// party is a running party for one test: an in-process server and real mpvs.
type party struct {
	t   *testing.T
	srv *syncbench.Server
	pt  *syncbench.Party
	ctx context.Context
}

func newParty(t *testing.T) *party {
	t.Helper()
	media := testClip(t)
	dir := t.TempDir()
	srv, err := syncbench.StartServer(filepath.Join(dir, "server"), nil)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := syncbench.NewParty(srv, media, dir)
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(func() {
		pt.Close()
		if err := srv.Stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
		cancel()
	})
	return &party{t: t, srv: srv, pt: pt, ctx: ctx}
}

// member is a session with a probe on its mpv.
type member struct {
	*syncbench.Member
	probe *syncbench.Probe
	pid   int
}

func (p *party) host(name string) *member {
	p.t.Helper()
	m, err := p.pt.Host(p.ctx, name)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.attach(m)
}

func (p *party) join(roomID, name string) *member {
	p.t.Helper()
	m, err := p.pt.Join(p.ctx, roomID, name)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.attach(m)
}

// attach connects a probe to m's mpv and records mpv's pid.
func (p *party) attach(m *syncbench.Member) *member {
	p.t.Helper()
	mm := &member{Member: m}
	p.reattach(mm)
	return mm
}

// reattach (re)connects m's probe, e.g. after mpv was restarted on the same socket.
func (p *party) reattach(m *member) {
	p.t.Helper()
	if m.probe != nil {
		m.probe.Close()
	}
	pr, err := syncbench.Attach(p.ctx, m.Socket)
	if err != nil {
		p.t.Fatalf("%s: attach a probe to mpv: %v", m.Name, err)
	}
	m.probe = pr
	p.t.Cleanup(pr.Close)
	pid, err := pr.Pid(p.ctx)
	if err != nil {
		p.t.Fatalf("%s: read mpv's pid: %v", m.Name, err)
	}
	m.pid = pid
	mpvPids.mu.Lock()
	mpvPids.pids = append(mpvPids.pids, pid)
	mpvPids.mu.Unlock()
}

// waitFor polls cond until it holds or timeout passes; cond says why it does not hold yet.
func (p *party) waitFor(timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	p.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	why := ""
	for {
		ok, w := cond()
		if ok {
			return time.Since(start)
		}
		why = w
		if time.Now().After(deadline) || p.ctx.Err() != nil {
			p.t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holds checks that cond holds throughout d (an invariant over time, such as "a detached
// follower is not corrected"), polling it.
func (p *party) holds(d time.Duration, what string, cond func() (bool, string)) {
	p.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if ok, why := cond(); !ok {
			p.t.Fatalf("%s: %s", what, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// read samples a and b at (nearly) the same instant, b's positions moved to a's instant.
func (p *party) read(a, b *member) (sa, sb syncbench.Sample, err error) {
	ch := make(chan error, 1)
	go func() {
		var e error
		sb, e = b.probe.Read(p.ctx)
		ch <- e
	}()
	sa, err = a.probe.Read(p.ctx)
	if e := <-ch; err == nil {
		err = e
	}
	if err == nil && !sb.Paused && !sb.Seeking {
		dt := sa.At.Sub(sb.At).Seconds() * sb.Speed
		sb.Interp += dt
		sb.Raw += dt
	}
	return sa, sb, err
}

// synced reports whether follower f's mpv is where host h's mpv is: same pause state,
// positions within tolerance (both as interpolated and as raw playback-time).
func (p *party) synced(h, f *member) (bool, string) {
	sh, sf, err := p.read(h, f)
	if err != nil {
		return false, err.Error()
	}
	d, dRaw := sf.Interp-sh.Interp, sf.Raw-sh.Raw
	why := fmt.Sprintf("%s at %.3f (raw %.3f, paused %v) vs %s at %.3f (raw %.3f, paused %v): %+.0f ms",
		f.Name, sf.Interp, sf.Raw, sf.Paused, h.Name, sh.Interp, sh.Raw, sh.Paused, d*1000)
	ok := sf.Paused == sh.Paused && !sf.Seeking && math.Abs(d) <= syncTolerance && math.Abs(dRaw) <= rawSyncTolerance
	if !ok {
		// For the failure message: what the sessions think (snapshots, up to a second old).
		hs, fs := h.Session.Snapshot().Sync, f.Session.Snapshot().Sync
		why += fmt.Sprintf("; sessions: %s %s drift %+d ms (speed %.3f, room at %.3f), %s %s drift %+d ms",
			f.Name, fs.Mode, fs.DriftMS, fs.Speed, fs.Expected, h.Name, hs.Mode, hs.DriftMS)
	}
	return ok, why
}

// waitSynced waits until every follower is in sync with h and has stayed so for half a
// second (a single close sample could be a follower passing by).
func (p *party) waitSynced(timeout time.Duration, what string, h *member, fs ...*member) time.Duration {
	p.t.Helper()
	var since time.Time
	return p.waitFor(timeout, what, func() (bool, string) {
		for _, f := range fs {
			if ok, why := p.synced(h, f); !ok {
				since = time.Time{}
				return false, why
			}
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) >= 500*time.Millisecond, "in sync for less than 0.5 s"
	})
}

// position reads m's mpv position (interpolated).
func (p *party) position(m *member) float64 {
	p.t.Helper()
	s, err := m.probe.Read(p.ctx)
	if err != nil {
		p.t.Fatalf("%s: read position: %v", m.Name, err)
	}
	return s.Interp
}

func (p *party) notice(m *member, text string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := m.WaitNotice(ctx, text); err != nil {
		p.t.Fatal(err)
	}
}

func mode(m *member) room.Mode { return m.Session.Snapshot().Sync.Mode }
