package toast

import (
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/watchparty/watchparty/room"
)

var t0 = time.Date(2026, 11, 28, 20, 15, 0, 0, time.UTC)

func TestLifetimeAndFade(t *testing.T) {
	m := New(Styles{Faded: lipgloss.NewStyle().Faint(true)})
	m.SetWidth(40)
	m.Push(room.NoticeInfo, "info", t0)
	m.Push(room.NoticeWarn, "warn", t0)
	m.Push(room.NoticeError, "error", t0)
	if got := m.View(); got != "• info"+strings.Repeat(" ", 34)+"\n! warn"+strings.Repeat(" ", 34)+
		"\n✗ error"+strings.Repeat(" ", 33) {
		t.Fatalf("View = %q", got)
	}
	m.Tick(t0.Add(3 * time.Second)) // info has 1 s left: faded
	if v := strings.Split(m.View(), "\n"); !strings.Contains(v[0], "\x1b[2m") || strings.Contains(v[1], "\x1b[2m") {
		t.Fatalf("fade: %q", v)
	}
	for _, c := range []struct {
		at   time.Duration
		want []string
	}{{4 * time.Second, []string{"warn", "error"}}, {6 * time.Second, []string{"error"}}, {8 * time.Second, []string{}}} {
		m.Tick(t0.Add(c.at))
		if got := m.Texts(); !slices.Equal(got, c.want) {
			t.Fatalf("at %s: %q, want %q", c.at, got, c.want)
		}
	}
}

func TestStackAndRenew(t *testing.T) {
	m := New(Styles{})
	m.SetWidth(10)
	for _, s := range []string{"a", "b", "c", "d"} {
		m.Push(room.NoticeInfo, s, t0)
	}
	if got := m.Texts(); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("stack = %q", got)
	}
	m.Push(room.NoticeInfo, "d", t0.Add(3*time.Second)) // the same notice again renews it
	m.Tick(t0.Add(5 * time.Second))
	if got := m.Texts(); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("after renew: %q", got)
	}
	m.Push(room.NoticeInfo, "a very long notice text", t0.Add(5*time.Second))
	if v := strings.Split(m.View(), "\n")[1]; v != "• a very …" {
		t.Fatalf("truncated line %q", v)
	}
}
