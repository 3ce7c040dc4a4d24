package phx

import (
	"encoding/json"
	"sync"
	"testing"
)

func TestRegistryTrackUntrack(t *testing.T) {
	r := NewRegistry()
	alice := map[string]any{"user_id": "u-123", "name": "Alice", "online_at": "2024-05-01T12:00:00.000Z"}

	// First track: joins only.
	d, changed := r.Track("sock1/chan", "u-123", alice)
	if !changed || len(d.Leaves) != 0 || len(d.Joins["u-123"].Metas) != 1 {
		t.Fatalf("first track: %+v %v", d, changed)
	}
	first := d.Joins["u-123"].Metas[0]
	ref1, _ := first[MetaRef].(string)
	if ref1 == "" || first["name"] != "Alice" || first[MetaRefPrev] != nil {
		t.Errorf("first meta %v", first)
	}
	out, _ := json.Marshal(d)
	if !jsonEqual(out, []byte(`{"joins":{"u-123":{"metas":[{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:00.000Z","phx_ref":"`+ref1+`"}]}},"leaves":{}}`)) {
		t.Errorf("diff json %s", out)
	}

	// Identical re-track (even with a phx_ref smuggled in): no diff.
	same := map[string]any{"online_at": "2024-05-01T12:00:00.000Z", "name": "Alice", "user_id": "u-123", "phx_ref": "fake"}
	if d, changed := r.Track("sock1/chan", "u-123", same); changed || !d.IsEmpty() {
		t.Errorf("identical re-track: %+v %v", d, changed)
	}

	// Changed re-track: joins new (phx_ref_prev = old ref) and leaves old.
	alice2 := map[string]any{"user_id": "u-123", "name": "Alice", "online_at": "2024-05-01T12:00:03.000Z"}
	d, changed = r.Track("sock1/chan", "u-123", alice2)
	if !changed {
		t.Fatal("changed re-track reported no change")
	}
	joined, left := d.Joins["u-123"].Metas, d.Leaves["u-123"].Metas
	if len(joined) != 1 || len(left) != 1 {
		t.Fatalf("re-track diff %+v", d)
	}
	ref2, _ := joined[0][MetaRef].(string)
	if ref2 == "" || ref2 == ref1 || joined[0][MetaRefPrev] != ref1 || left[0][MetaRef] != ref1 ||
		left[0]["online_at"] != "2024-05-01T12:00:00.000Z" || joined[0]["online_at"] != "2024-05-01T12:00:03.000Z" {
		t.Errorf("re-track joins %v leaves %v", joined, left)
	}

	// A second tracker under the same key: two metas.
	if _, changed := r.Track("sock2/chan", "u-123", map[string]any{"device": "phone"}); !changed {
		t.Error("second tracker not added")
	}
	st := r.State()
	if r.Len() != 2 || len(st) != 1 || len(st["u-123"].Metas) != 2 || st["u-123"].Metas[0][MetaRef] != ref2 {
		t.Errorf("state %v len %d", st, r.Len())
	}
	if key, ok := r.Tracked("sock2/chan"); !ok || key != "u-123" {
		t.Errorf("Tracked = %q %v", key, ok)
	}

	// Untrack: leaves the tracker's current meta.
	d, changed = r.Untrack("sock1/chan")
	if !changed || len(d.Joins) != 0 || d.Leaves["u-123"].Metas[0][MetaRef] != ref2 || d.Leaves["u-123"].Metas[0][MetaRefPrev] != ref1 {
		t.Errorf("untrack %+v %v", d, changed)
	}
	out, _ = json.Marshal(d)
	if !jsonEqual(out, []byte(`{"joins":{},"leaves":{"u-123":{"metas":[{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:03.000Z","phx_ref":"`+ref2+`","phx_ref_prev":"`+ref1+`"}]}}}`)) {
		t.Errorf("untrack json %s", out)
	}
	if d, changed := r.Untrack("sock1/chan"); changed || !d.IsEmpty() {
		t.Errorf("second untrack %+v %v", d, changed)
	}
	if r.Len() != 1 {
		t.Errorf("len %d", r.Len())
	}
	// After untrack a track is a fresh join without phx_ref_prev.
	d, _ = r.Track("sock1/chan", "u-123", alice)
	if len(d.Leaves) != 0 || d.Joins["u-123"].Metas[0][MetaRefPrev] != nil {
		t.Errorf("track after untrack %+v", d)
	}
}

func TestRegistryKeyChange(t *testing.T) {
	r := NewRegistry()
	r.Track("t", "a", map[string]any{"x": 1})
	d, changed := r.Track("t", "b", map[string]any{"x": 1})
	if !changed || len(d.Leaves["a"].Metas) != 1 || len(d.Joins["b"].Metas) != 1 || d.Joins["b"].Metas[0][MetaRefPrev] != nil {
		t.Errorf("key change %+v", d)
	}
	if st := r.State(); len(st) != 1 || len(st["b"].Metas) != 1 {
		t.Errorf("state %v", st)
	}
}

// The caller's map is copied: changing it later does not change the state.
func TestRegistryCopiesPayload(t *testing.T) {
	r := NewRegistry()
	p := map[string]any{"x": 1}
	r.Track("t", "k", p)
	p["x"] = 2
	st := r.State()
	if st["k"].Metas[0]["x"] != 1 {
		t.Errorf("state changed with the caller's map: %v", st)
	}
	st["k"].Metas[0]["x"] = 3
	if r.State()["k"].Metas[0]["x"] != 1 {
		t.Error("State returned the registry's own map")
	}
}

func TestStateEncodesEmptyAsObject(t *testing.T) {
	for _, v := range []any{State(nil), State{}, Diff{}, NewRegistry().State(), Presence{}} {
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		switch string(out) {
		case `{}`, `{"joins":{},"leaves":{}}`, `{"metas":[]}`:
		default:
			t.Errorf("%T encodes as %s", v, out)
		}
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := NewRegistry()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := string(rune('a' + i))
			for j := range 50 {
				r.Track(tr, "k", map[string]any{"j": j})
				_ = r.State()
				if j%10 == 0 {
					r.Untrack(tr)
				}
			}
		}()
	}
	wg.Wait()
	if r.Len() != 8 {
		t.Errorf("len %d, want 8", r.Len())
	}
}

func TestNewPresenceRefUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		ref := NewPresenceRef()
		if seen[ref] || len(ref) < 12 {
			t.Fatalf("ref %q repeated or short", ref)
		}
		for _, c := range ref {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("ref %q is not URL-safe", ref)
			}
		}
		seen[ref] = true
	}
}
