package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// ID is the server's stable identity, published at /watchparty/v1/info as "server_id":
// clients key their saved session (and the name chosen for this server) by it, so one server
// reached by several URLs (127.0.0.1, localhost, a LAN address) is one server to them.
//
// It is derived from the JWT secret that the data directory keeps (an HMAC of a fixed label,
// so it tells nothing about the secret): it stays the same across restarts and changes only
// with the secret, which signs everyone out anyway.
func (s *Server) ID() string {
	m := hmac.New(sha256.New, s.keys.secret)
	m.Write([]byte("watchparty server id"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
