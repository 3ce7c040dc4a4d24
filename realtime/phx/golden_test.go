package phx

// Frames captured from supabase-js 2.119.0 (research note on the protocol,
// section 14). Client frames are genuine supabase-js output; server frames
// are in the real server's format and were accepted by supabase-js.
var capturedV2 = []string{
	`["6","6","realtime:room:r1","phx_join",{"config":{"broadcast":{"self":true},"presence":{"key":"u-123","enabled":true},"postgres_changes":[{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.r1"},{"event":"*","schema":"public","table":"room_members","filter":"room_id=eq.r1"},{"event":"INSERT","schema":"public","table":"comments","filter":"room_id=eq.r1"}],"private":false}}]`,
	`["6","6","realtime:room:r1","phx_reply",{"status":"ok","response":{"postgres_changes":[{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.r1","id":30636876},{"event":"*","schema":"public","table":"room_members","filter":"room_id=eq.r1","id":30636877},{"event":"INSERT","schema":"public","table":"comments","filter":"room_id=eq.r1","id":30636878}]}}]`,
	`["6",null,"realtime:room:r1","presence_state",{"other-user":{"metas":[{"phx_ref":"F_other_1","user_id":"other-user","name":"Bob"}]}}]`,
	`["6",null,"realtime:room:r1","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"room:r1"}]`,
	`["6","7","realtime:room:r1","presence",{"type":"presence","event":"track","payload":{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:00.000Z"}}]`,
	`["6","7","realtime:room:r1","phx_reply",{"status":"ok","response":{}}]`,
	`[null,null,"realtime:room:r1","presence_diff",{"joins":{"u-123":{"metas":[{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:00.000Z","phx_ref":"F_me_1"}]}},"leaves":{}}]`,
	`[null,null,"realtime:room:r1","postgres_changes",{"ids":[30636876],"data":{"schema":"public","table":"rooms","commit_timestamp":"2024-05-01T12:00:00.123Z","type":"UPDATE","errors":null,"columns":[{"name":"room_id","type":"uuid"},{"name":"position_ms","type":"int8"},{"name":"is_playing","type":"bool"},{"name":"updated_at","type":"timestamptz"}],"record":{"room_id":"r1","position_ms":4200,"is_playing":true,"updated_at":"2024-05-01T12:00:00.123+00:00"},"old_record":{"room_id":"r1"}}}]`,
	`[null,null,"realtime:room:r1","postgres_changes",{"ids":[30636878],"data":{"schema":"public","table":"comments","commit_timestamp":"2024-05-01T12:00:01.000Z","type":"INSERT","errors":null,"columns":[{"name":"id","type":"int8"},{"name":"room_id","type":"uuid"},{"name":"body","type":"text"}],"record":{"id":7,"room_id":"r1","body":"hello"}}}]`,
	`["6","8","realtime:room:r1","presence",{"type":"presence","event":"track","payload":{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:03.000Z"}}]`,
	`[null,null,"realtime:room:r1","presence_diff",{"joins":{"u-123":{"metas":[{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:03.000Z","phx_ref":"F_me_2","phx_ref_prev":"F_me_1"}]}},"leaves":{"u-123":{"metas":[{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:00.000Z","phx_ref":"F_me_1"}]}}}]`,
	`[null,"9","phoenix","heartbeat",{}]`,
	`[null,"9","phoenix","phx_reply",{"status":"ok","response":{}}]`,
	`["6","10","realtime:room:r1","access_token",{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEyMyIsInJvbGUiOiJhdXRoZW50aWNhdGVkIn0.new"}]`,
	`["6","11","realtime:room:r1","presence",{"type":"presence","event":"untrack"}]`,
	`[null,null,"realtime:room:r1","presence_diff",{"joins":{},"leaves":{"u-123":{"metas":[{"user_id":"u-123","name":"Alice","online_at":"2024-05-01T12:00:03.000Z","phx_ref":"F_me_2","phx_ref_prev":"F_me_1"}]}}}]`,
	`["6","12","realtime:room:r1","phx_leave",{}]`,
	`["6","12","realtime:room:r1","phx_reply",{"status":"ok","response":{}}]`,
	`["6","6","realtime:room:r1","phx_close",{}]`,
	`["19","19","realtime:room:r1","phx_join",{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"u-1","enabled":true},"postgres_changes":[{"event":"UPDATE","schema":"public","table":"rooms","filter":"room_id=eq.r1"}],"private":false},"access_token":"sb_publishable_fakekey123","version":"realtime-js/2.119.0"}]`,
	`["19",null,"realtime:room:r1","presence_state",{}]`,
	`["6",null,"realtime:room:r1","system",{"extension":"system","status":"error","message":"Client presence rate limit exceeded","channel":"room:r1"}]`,
	`["6","6","realtime:room:r1","phx_reply",{"status":"error","response":{"reason":"ClientJoinRateLimitReached: Too many joins per second"}}]`,
	`[null,null,"realtime:room:r1","broadcast",{"type":"broadcast","event":"ping","payload":{"x":1}}]`,
}

// Captured vsn 1.0.0 frames (join abbreviated in the note; this is its
// shape with the config of the main run).
var capturedV1 = []string{
	`{"topic":"realtime:room:r1","event":"phx_join","payload":{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false}},"ref":"6","join_ref":"6"}`,
	`{"topic":"realtime:room:r1","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"6","join_ref":"6"}`,
}

const (
	// capturedKind3 is send({type:'broadcast', event:'ping', payload:{x:1}}) with join_ref "6", ref "7".
	capturedKind3 = "0301011004000136377265616c74696d653a726f6f6d3a723170696e677b2278223a317d"
	// capturedKind4 is the same broadcast pushed by the server.
	capturedKind4 = "04100400017265616c74696d653a726f6f6d3a723170696e677b2278223a317d"
)
