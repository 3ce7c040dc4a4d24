package party

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWaitRule(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	limit := 8 * time.Second
	var w Waits
	if got := w.ToWaitFor([]string{"bob"}, at(0), limit); got != nil {
		t.Errorf("buffering with no action or join: wait for %v", got)
	}
	w.Joined("bob", at(0))
	if got := w.ToWaitFor([]string{"bob"}, at(1), 0); got != nil {
		t.Errorf("a wait_limit of 0 waited for %v", got)
	}
	if got := w.ToWaitFor([]string{"bob"}, at(1), limit); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("bob buffering 1 s after his join: wait for %v, want bob", got)
	}
	if got := w.ToWaitFor([]string{"bob"}, at(6), limit); got != nil {
		t.Errorf("bob buffering 6 s after his join (steady play): wait for %v", got)
	}
	w.Acted(at(10)) // a seek
	got := w.ToWaitFor([]string{"bob", "carol"}, at(11), limit)
	if !slices.Equal(got, []string{"bob", "carol"}) {
		t.Fatalf("after a seek: wait for %v, want bob and carol", got)
	}
	w.Start([]string{"bob"}, at(11))
	w.Start([]string{"carol"}, at(12))
	if !w.Since.Equal(at(11)) || !slices.Equal(w.For, []string{"bob", "carol"}) {
		t.Errorf("wait %v since %v, want bob and carol since 11 s", w.For, w.Since)
	}
	if got := w.ToWaitFor([]string{"bob"}, at(12), limit); got != nil {
		t.Errorf("bob, already waited for: %v", got)
	}
	buffering := map[string]bool{"bob": true, "carol": true}
	is := func(id string) bool { return buffering[id] }
	if end := w.Check(is, at(13), limit); end != WaitGoesOn {
		t.Errorf("both buffering at 13 s: %v", end)
	}
	buffering["carol"] = false
	if end := w.Check(is, at(18.9), limit); end != WaitGoesOn {
		t.Errorf("bob buffering at 18.9 s: %v", end)
	}
	if end := w.Check(is, at(19), limit); end != WaitTimeout {
		t.Errorf("the limit passed at 19 s: %v, want WaitTimeout", end)
	}
	buffering["bob"] = false
	if end := w.Check(is, at(14), limit); end != WaitReady {
		t.Errorf("nobody buffering: %v, want WaitReady", end)
	}
	w.Stop()
	if w.Running() || w.Check(is, at(20), limit) != WaitGoesOn {
		t.Error("a stopped wait still runs")
	}
	w.Acted(at(30))
	if got := w.ToWaitFor([]string{"bob"}, at(31), limit); got != nil {
		t.Errorf("bob again within a minute: wait for %v", got)
	}
	w.Acted(at(80))
	if got := w.ToWaitFor([]string{"bob"}, at(81), limit); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("bob after a minute: wait for %v, want bob", got)
	}
}

func TestWaitColumns(t *testing.T) {
	row := map[string]any{"is_playing": false, "current_time": 3.0, "updated_at": "2024-05-01T12:00:00.000+00:00",
		"waiting_for": []any{"b", "a", "b", 7, "", strings.Repeat("x", 65), "line\nbreak"}, "wait_limit": 1e9}
	s, err := ParseRoomRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Waiting.IDs(), []string{"b", "a"}) || !s.Waiting.Has("a") || s.Waiting.Has("c") {
		t.Errorf("waiting_for read as %q", s.Waiting.IDs())
	}
	if s.WaitLimit != time.Minute {
		t.Errorf("a huge wait_limit read as %v, want the 60 s maximum", s.WaitLimit)
	}
	delete(row, "waiting_for")
	delete(row, "wait_limit")
	if s, err = ParseRoomRow(row); err != nil || s.Waiting != "" || s.WaitLimit != 0 {
		t.Errorf("a row without the columns: %q %v %v, want no wait and a limit of 0", s.Waiting, s.WaitLimit, err)
	}
	many := make([]string, 40)
	for i := range many {
		many[i] = strings.Repeat("i", i+1)
	}
	if n := len(NewWaitList(many).IDs()); n != MaxWaitingFor {
		t.Errorf("a list of 40 kept %d, want %d", n, MaxWaitingFor)
	}
	m, err := ParseMemberRow(map[string]any{"user_id": "u", "buffering": true})
	if err != nil || !m.Buffering {
		t.Errorf("member buffering: %v %v", m.Buffering, err)
	}
}
