package party

import (
	"testing"
	"time"
)

func TestPresenceBudget(t *testing.T) {
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		at       float64 // seconds after t0
		offer    string  // payload to offer; "" means call Due instead
		sendNow  bool
		when     float64 // expected when, seconds after t0; -1 = zero time
		dueSends string  // for Due steps: payload expected, "" = none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"four fit, fifth waits for the oldest to leave", []step{
			{at: 0, offer: "a", sendNow: true, when: 0},
			{at: 1, offer: "b", sendNow: true, when: 1},
			{at: 2, offer: "c", sendNow: true, when: 2},
			{at: 3, offer: "d", sendNow: true, when: 3},
			{at: 4, offer: "e", when: 30},
		}},
		{"window edge: 1 ns before is full, at 30 s is free", []step{
			{at: 0, offer: "a", sendNow: true, when: 0},
			{at: 0, offer: "b", sendNow: true, when: 0},
			{at: 0, offer: "c", sendNow: true, when: 0},
			{at: 0, offer: "d", sendNow: true, when: 0},
			{at: 30 - 1e-9, offer: "e", when: 30},
			{at: 30 - 1e-9, dueSends: ""},
			{at: 30, dueSends: "e"},
			// all four sends at 0 left the window together
			{at: 30, offer: "f", sendNow: true, when: 30},
			{at: 30, offer: "g", sendNow: true, when: 30},
			{at: 30, offer: "h", sendNow: true, when: 30},
			{at: 30, offer: "i", when: 60},
		}},
		{"coalesces to the latest payload", []step{
			{at: 0, offer: "1", sendNow: true, when: 0},
			{at: 5, offer: "2", sendNow: true, when: 5},
			{at: 6, offer: "3", sendNow: true, when: 6},
			{at: 7, offer: "4", sendNow: true, when: 7},
			{at: 8, offer: "5", when: 30},
			{at: 9, offer: "6", when: 30},
			{at: 10, offer: "7", when: 30},
			{at: 29, dueSends: ""},
			{at: 31, dueSends: "7"},
			// the window now holds 5, 6, 7 and 31: next slot at 35
			{at: 32, offer: "8", when: 35},
			{at: 35, dueSends: "8"},
		}},
		{"identical to last sent is skipped", []step{
			{at: 0, offer: "a", sendNow: true, when: 0},
			{at: 1, offer: "a", when: -1},
			{at: 2, offer: "b", sendNow: true, when: 2},
			{at: 3, offer: "b", when: -1},
			{at: 4, offer: "a", sendNow: true, when: 4},
		}},
		{"returning to the sent value drops the waiting one", []step{
			{at: 0, offer: "a", sendNow: true, when: 0},
			{at: 1, offer: "b", sendNow: true, when: 1},
			{at: 2, offer: "c", sendNow: true, when: 2},
			{at: 3, offer: "d", sendNow: true, when: 3},
			{at: 4, offer: "e", when: 30},
			{at: 5, offer: "d", when: -1},
			{at: 31, dueSends: ""},
		}},
		{"sliding, not fixed: slots free one by one", []step{
			{at: 0, offer: "a", sendNow: true, when: 0},
			{at: 10, offer: "b", sendNow: true, when: 10},
			{at: 20, offer: "c", sendNow: true, when: 20},
			{at: 25, offer: "d", sendNow: true, when: 25},
			{at: 29, offer: "e", when: 30},
			{at: 30, dueSends: "e"},
			{at: 31, offer: "f", when: 40},
			{at: 40, dueSends: "f"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b PresenceBudget
			for i, s := range tt.steps {
				now := sec(s.at)
				if s.offer == "" {
					got, ok := b.Due(now)
					if ok != (s.dueSends != "") || got != s.dueSends {
						t.Fatalf("step %d: Due = %q %v, want %q", i, got, ok, s.dueSends)
					}
					continue
				}
				sendNow, when := b.Offer(now, s.offer)
				wantWhen := time.Time{}
				if s.when >= 0 {
					wantWhen = sec(s.when)
				}
				if sendNow != s.sendNow || !when.Equal(wantWhen) {
					t.Fatalf("step %d: Offer(%q) = %v %v, want %v %v", i, s.offer, sendNow, when, s.sendNow, wantWhen)
				}
			}
		})
	}
}

// However often state changes, no 30 s window ever holds more than 4 sends.
func TestPresenceBudgetNeverExceeds(t *testing.T) {
	var b PresenceBudget
	var sent []time.Time
	for i := range 2000 {
		now := t0.Add(time.Duration(i) * 137 * time.Millisecond)
		if ok, _ := b.Offer(now, string(rune('a'+i%26))); ok {
			sent = append(sent, now)
		}
		if _, ok := b.Due(now); ok {
			sent = append(sent, now)
		}
	}
	for i := range sent {
		n := 0
		for _, s := range sent[i:] {
			if s.Sub(sent[i]) < PresenceWindow {
				n++
			}
		}
		if n > PresenceTracks {
			t.Fatalf("%d sends in the 30 s from %v", n, sent[i])
		}
	}
	if len(sent) < 4*9 { // 274 s of changes: at least 4 per full window
		t.Fatalf("only %d sends", len(sent))
	}
}

func TestPresenceBudgetPendingAndRejoin(t *testing.T) {
	var b PresenceBudget
	if _, _, ok := b.Pending(t0); ok {
		t.Fatal("pending on a new budget")
	}
	for i, p := range []string{"a", "b", "c", "d"} {
		b.Offer(t0.Add(time.Duration(i)*time.Second), p)
	}
	b.Offer(t0.Add(5*time.Second), "e")
	if p, when, ok := b.Pending(t0.Add(6 * time.Second)); !ok || p != "e" || !when.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("Pending = %q %v %v", p, when, ok)
	}
	if p, when, ok := b.Pending(t0.Add(31 * time.Second)); !ok || p != "e" || !when.Equal(t0.Add(31*time.Second)) {
		t.Fatalf("Pending after the slot = %q %v %v", p, when, ok)
	}
	if p, ok := b.Due(t0.Add(31 * time.Second)); !ok || p != "e" {
		t.Fatal("Due")
	}
	// A rejoin needs the same payload tracked again.
	if ok, _ := b.Offer(t0.Add(40*time.Second), "e"); ok {
		t.Fatal("identical payload sent")
	}
	b.Rejoined()
	if ok, _ := b.Offer(t0.Add(41*time.Second), "e"); !ok {
		t.Fatal("identical payload not sent after Rejoined")
	}
}
