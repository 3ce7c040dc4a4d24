package server

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server/store"
)

// changeIndex finds the postgres_changes bindings a row change matches. It accepts on our tables
// only the filter the product uses, `room_id=eq.<room id>`, and finds bindings by hash lookup:
// a change costs the same with 10 or 10,000 rooms, and no binding is ever scanned on a write
// (unfiltered or other filters once let 360,000 bindings from two sockets stop every write for
// minutes). Removing a channel's bindings costs the number of its bindings.
// Not safe for concurrent use: the hub's lock guards it.
type changeIndex struct {
	byRoom map[string]map[string]map[*channel][]indexedBinding // table → room id → channel → bindings
}

type indexedBinding struct {
	id    int64
	event string
}

// indexKey is where one of a channel's bindings sits in the index (kept for removal).
type indexKey struct{ table, roomID string }

// Binding limits (docs/security.md).
const (
	maxBindingsPerJoin = 10
	maxBindingsPerConn = 100
)

func newChangeIndex() changeIndex {
	return changeIndex{byRoom: map[string]map[string]map[*channel][]indexedBinding{}}
}

// roomFilter is the one filter accepted on our tables.
var roomFilter = regexp.MustCompile(`^room_id=eq\.([a-z0-9]{10})$`)

// ourTables are the tables in the realtime publication.
var ourTables = map[string]bool{"rooms": true, "room_members": true, "comments": true, "room_queue": true}

// add indexes a channel's bindings and records where in ch.indexed. It returns a problem to
// report in a system message for bindings it cannot serve (the channel stays joined, as on
// Supabase).
func (x *changeIndex) add(ch *channel, bindings []phx.ChangeBinding) error {
	var problems []string
	for _, b := range bindings {
		if b.Schema != "public" || !ourTables[b.Table] {
			problems = append(problems, fmt.Sprintf("%s.%s", b.Schema, b.Table))
			continue
		}
		m := roomFilter.FindStringSubmatch(b.Filter)
		if m == nil {
			problems = append(problems, fmt.Sprintf("%s.%s with filter %s (only room_id=eq.<room id> is served)", b.Schema, b.Table, strconv.Quote(b.Filter)))
			continue
		}
		byRoom := x.byRoom[b.Table]
		if byRoom == nil {
			byRoom = map[string]map[*channel][]indexedBinding{}
			x.byRoom[b.Table] = byRoom
		}
		byCh := byRoom[m[1]]
		if byCh == nil {
			byCh = map[*channel][]indexedBinding{}
			byRoom[m[1]] = byCh
		}
		byCh[ch] = append(byCh[ch], indexedBinding{id: b.ID, event: b.Event})
		ch.indexed = append(ch.indexed, indexKey{b.Table, m[1]})
	}
	if len(problems) > 0 {
		//lint:ignore ST1005 the real server's exact text, shown to supabase-js's system listeners
		return fmt.Errorf("Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: %v", problems)
	}
	return nil
}

// remove drops every binding of ch.
func (x *changeIndex) remove(ch *channel) {
	for _, k := range ch.indexed {
		byRoom := x.byRoom[k.table]
		byCh := byRoom[k.roomID]
		delete(byCh, ch)
		if len(byCh) == 0 {
			delete(byRoom, k.roomID)
		}
	}
	ch.indexed = nil
}

// match returns, per channel, the ids of its bindings that c matches, in join order (add
// appends a channel's bindings in that order).
func (x *changeIndex) match(c store.Change) map[*channel][]int64 {
	row := c.Record
	if c.Type == "DELETE" {
		row = c.OldRecord
	}
	roomID, _ := row["room_id"].(string)
	byCh := x.byRoom[c.Table][roomID]
	if len(byCh) == 0 {
		return nil
	}
	out := make(map[*channel][]int64, len(byCh))
	for ch, bs := range byCh {
		var ids []int64
		for _, b := range bs {
			if (phx.ChangeBinding{Event: b.event}).MatchEvent(c.Type) {
				ids = append(ids, b.id)
			}
		}
		if len(ids) > 0 {
			out[ch] = ids
		}
	}
	return out
}
