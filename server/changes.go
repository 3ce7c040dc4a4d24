package server

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server/store"
)

// changeIndex finds the postgres_changes bindings a row change matches. Bindings with a single
// `column=eq.value` filter (what every watch-party client sends) are found by hash lookup, so a
// change costs the same with 10 or 10,000 rooms; other filters are evaluated one by one.
// Not safe for concurrent use: the hub's lock guards it.
type changeIndex struct {
	eq      map[string]map[string]map[string][]indexedBinding // table → column → value → bindings
	general map[string][]indexedBinding                       // table ("*" = every table) → bindings
}

type indexedBinding struct {
	ch     *channel
	pos    int // position in the channel's join list: ids go out in this order
	id     int64
	event  string
	filter phx.Filter
}

func newChangeIndex() changeIndex {
	return changeIndex{eq: map[string]map[string]map[string][]indexedBinding{}, general: map[string][]indexedBinding{}}
}

// simpleEq matches a filter that is one eq condition on a plain value.
var simpleEq = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=eq\.([^,()"\\]*)$`)

// ourTables are the tables in the realtime publication.
var ourTables = map[string]bool{"rooms": true, "room_members": true, "comments": true}

// add indexes a channel's bindings. It returns a problem to report in a system message for
// bindings it cannot serve (the channel stays joined, as on Supabase).
func (x *changeIndex) add(ch *channel, bindings []phx.ChangeBinding) error {
	var problems []string
	for i, b := range bindings {
		table := b.Table
		if table == "" {
			table = "*"
		}
		if b.Schema != "public" && b.Schema != "*" || table != "*" && !ourTables[table] {
			problems = append(problems, fmt.Sprintf("%s.%s", b.Schema, b.Table))
			continue
		}
		f, err := phx.ParseFilter(b.Filter)
		if err != nil {
			var fe *phx.FilterError
			if errors.As(err, &fe) {
				return errors.New(fe.ServerMessage())
			}
			return err
		}
		ib := indexedBinding{ch: ch, pos: i, id: b.ID, event: b.Event, filter: f}
		if m := simpleEq.FindStringSubmatch(b.Filter); m != nil && table != "*" {
			byCol := x.eq[table]
			if byCol == nil {
				byCol = map[string]map[string][]indexedBinding{}
				x.eq[table] = byCol
			}
			byVal := byCol[m[1]]
			if byVal == nil {
				byVal = map[string][]indexedBinding{}
				byCol[m[1]] = byVal
			}
			byVal[m[2]] = append(byVal[m[2]], ib)
			continue
		}
		x.general[table] = append(x.general[table], ib)
	}
	if len(problems) > 0 {
		//lint:ignore ST1005 the real server's exact text, shown to supabase-js's system listeners
		return fmt.Errorf("Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: %v", problems)
	}
	return nil
}

// remove drops every binding of ch.
func (x *changeIndex) remove(ch *channel) {
	drop := func(list []indexedBinding) []indexedBinding {
		kept := list[:0]
		for _, b := range list {
			if b.ch != ch {
				kept = append(kept, b)
			}
		}
		clear(list[len(kept):]) // let dropped channels be collected
		return kept
	}
	for _, b := range ch.bindings {
		table := b.Table
		if table == "" {
			table = "*"
		}
		if m := simpleEq.FindStringSubmatch(b.Filter); m != nil && table != "*" {
			byVal := x.eq[table][m[1]]
			if byVal == nil {
				continue
			}
			if kept := drop(byVal[m[2]]); len(kept) > 0 {
				byVal[m[2]] = kept
			} else {
				delete(byVal, m[2])
			}
			continue
		}
		if kept := drop(x.general[table]); len(kept) > 0 {
			x.general[table] = kept
		} else {
			delete(x.general, table)
		}
	}
}

// match returns, per channel, the ids of its bindings that c matches, in join order.
func (x *changeIndex) match(c store.Change) map[*channel][]int64 {
	row := c.Record
	if c.Type == "DELETE" {
		row = c.OldRecord
	}
	var hits []indexedBinding
	consider := func(b indexedBinding, checkFilter bool) {
		if !(phx.ChangeBinding{Event: b.event}).MatchEvent(c.Type) {
			return
		}
		if checkFilter && !b.filter.Match(row) {
			return
		}
		hits = append(hits, b)
	}
	for col, byVal := range x.eq[c.Table] {
		v, ok := row[col]
		if !ok || v == nil {
			continue
		}
		for _, b := range byVal[textOf(v)] {
			consider(b, false)
		}
	}
	for _, table := range []string{c.Table, "*"} {
		for _, b := range x.general[table] {
			consider(b, true)
		}
	}
	if len(hits) == 0 {
		return nil
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].pos < hits[j].pos })
	out := map[*channel][]int64{}
	for _, b := range hits {
		out[b.ch] = append(out[b.ch], b.id)
	}
	return out
}

// textOf renders a row value as Postgres text, for comparing with a filter literal.
func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}
