// Package rawclient talks to the embedded server the way supabase-js does: an HTTP API client
// (auth, Edge Functions, RPC, table read), a Realtime client that speaks Phoenix frames directly
// over a real WebSocket, and `watchparty serve` as a child process. The server benchmark and
// (through package servertest) the server's tests use it. It is not a general client (that is
// package realtime), and it links no test code: the release binary carries the benchmark.
package rawclient
