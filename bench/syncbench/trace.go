package syncbench

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Trace records, per member, the sessions' debug log (the session logs "correct" with the
// actions it takes, "seek landed", …) with the time of each record, for the benchmark's
// timelines. Safe for concurrent use.
type Trace struct {
	mu      sync.Mutex
	records map[string][]TraceRecord // by member name
}

// TraceRecord is one log record of a member's session.
type TraceRecord struct {
	Time    time.Time
	Message string
	Attrs   map[string]string
}

// NewTrace returns an empty trace.
func NewTrace() *Trace { return &Trace{records: map[string][]TraceRecord{}} }

// Handler returns a slog handler that records member's records (every level) in t and passes
// them on to next (nil: nowhere).
func (t *Trace) Handler(member string, next slog.Handler) slog.Handler {
	return &traceHandler{t: t, member: member, next: next}
}

// Find returns member's records with message msg at or after since and before until (zero:
// no end), in order, whose attrs pass keep (nil keeps all).
func (t *Trace) Find(member, msg string, since, until time.Time, keep func(map[string]string) bool) []TraceRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []TraceRecord
	for _, r := range t.records[member] {
		if r.Message != msg || r.Time.Before(since) || !until.IsZero() && !r.Time.Before(until) {
			continue
		}
		if keep == nil || keep(r.Attrs) {
			out = append(out, r)
		}
	}
	return out
}

func (t *Trace) add(member string, r TraceRecord) {
	t.mu.Lock()
	t.records[member] = append(t.records[member], r)
	t.mu.Unlock()
}

type traceHandler struct {
	t      *Trace
	member string
	attrs  []slog.Attr
	next   slog.Handler
}

func (h *traceHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := make(map[string]string, len(h.attrs)+r.NumAttrs())
	for _, a := range h.attrs {
		attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	h.t.add(h.member, TraceRecord{Time: r.Time, Message: r.Message, Attrs: attrs})
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(slices.Clip(h.attrs), as...)
	if h.next != nil {
		n.next = h.next.WithAttrs(as)
	}
	return &n
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	n := *h
	if h.next != nil {
		n.next = h.next.WithGroup(name)
	}
	return &n
}
