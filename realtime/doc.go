// Package realtime is watchparty's Go client for the part of Supabase it uses, speaking the
// same wire protocol as supabase-js 2.119.0, so one client works against hosted Supabase and
// against the embedded server (`watchparty serve`):
//
//   - Socket and Channel: Realtime over a Phoenix WebSocket (vsn 2.0.0) with heartbeats,
//     reconnects (1, 2, 5, 10 s plus jitter, forever), rejoins with a new join_ref,
//     postgres_changes, presence (supabase-js's state/diff algorithm, from realtime/phx) and
//     broadcast. Track coalesces presence updates to at most 4 track/untrack pushes per 30 s
//     per join (ChannelOptions.PresenceLimit): hosted Supabase allows 5 and closes the channel
//     on the 6th, and one is kept spare for the untrack of a leave.
//   - Client: anonymous GoTrue auth with refresh and a saved session per server
//     (Client.Auth), Edge Functions (Client.Functions), PostgREST RPC (Client.RPC) and table
//     reads (Client.From, Client.Comments). Errors unwrap to ErrNotFound, ErrNotAllowed,
//     ErrInvalid, ErrRateLimited or ErrUnauthorized and carry the server's code and message.
//
// Goroutines: a Socket runs one manager goroutine, plus a reader and a writer while a
// connection is open; a subscribed Channel runs one state goroutine and one listener
// goroutine; a Client with a session runs one token refresher. Socket.Close and Client.Close
// end all of them before returning.
package realtime
