package phx_test

import (
	"encoding/json"
	"fmt"

	"github.com/watchparty/watchparty/realtime/phx"
)

// A server answering supabase-js's join: decode the frame, echo the bindings
// with ids, and encode the reply for the client's protocol version.
func Example_join() {
	ser, _ := phx.SerializerFor("2.0.0")
	in, err := ser.Decode([]byte(`["6","6","realtime:room:r1","phx_join",{"config":{"broadcast":{"self":true},"presence":{"key":"u-123","enabled":true},"postgres_changes":[{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.r1"}],"private":false}}]`), false)
	if err != nil {
		fmt.Println(err)
		return
	}
	var join phx.JoinPayload
	if err := json.Unmarshal(in.Payload, &join); err != nil {
		fmt.Println(err)
		return
	}
	echo := join.Config.PostgresChanges
	for i := range echo {
		echo[i].ID = 42 // phx.BindingID(echo[i]) in a real server
	}
	out, _, _ := ser.Encode(phx.Message{JoinRef: in.JoinRef, Ref: in.Ref, Topic: in.Topic, Event: phx.EventReply,
		Payload: phx.ReplyOK(map[string]any{"postgres_changes": echo})})
	fmt.Println(string(out))
	// Output:
	// ["6","6","realtime:room:r1","phx_reply",{"status":"ok","response":{"postgres_changes":[{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.r1","id":42}]}}]
}

// Presence on the server: a changed re-track yields joins and leaves.
func ExampleRegistry_Track() {
	r := phx.NewRegistry()
	r.Track("conn1/room", "u-1", map[string]any{"name": "Alice"})
	d, changed := r.Track("conn1/room", "u-1", map[string]any{"name": "Alice", "playing": true})
	fmt.Println(changed, len(d.Joins["u-1"].Metas), len(d.Leaves["u-1"].Metas), d.Joins["u-1"].Metas[0]["phx_ref_prev"] == d.Leaves["u-1"].Metas[0]["phx_ref"])
	_, changed = r.Track("conn1/room", "u-1", map[string]any{"playing": true, "name": "Alice"})
	fmt.Println(changed)
	// Output:
	// true 1 1 true
	// false
}

func ExampleParseFilter() {
	f, err := phx.ParseFilter(`room_id=eq.r1,status=not.in.(gone,"left, for good")`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Match(map[string]any{"room_id": "r1", "status": "here"}))
	fmt.Println(f.Match(map[string]any{"room_id": "r1", "status": "left, for good"}))
	_, err = phx.ParseFilter("subject=fts.hey")
	fmt.Println(err)
	// Output:
	// true
	// false
	// error parsing filter params: ["fts", "hey"]: unknown operator
}
