package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/watchparty/watchparty/realtime/phx"
	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

// Serve with a cancelled context: every channel gets the system "Server requested disconnect",
// every socket a 1001 close, and Serve returns nil after closing the database.
func TestGracefulShutdown(t *testing.T) {
	p := newParty(t, server.Config{})
	a, b := p.dial(t), p.dial(t)
	joinRoom(t, a, p.roomID, p.host)
	joinRoom(t, b, p.roomID, p.member)
	idle := p.dial(t) // a socket with no channel is closed too

	if err := p.s.Stop(); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	topic := servertest.RoomTopic(p.roomID)
	for _, c := range []*servertest.Client{a, b} {
		f := await(t, c, "system notice", servertest.IsEvent(topic, phx.EventSystem))
		if f.Payload()["message"] != "Server requested disconnect" || f.Payload()["extension"] != "system" {
			t.Fatalf("shutdown notice = %s", f)
		}
	}
	for _, c := range []*servertest.Client{a, b, idle} {
		code, _, err := c.CloseStatus(servertest.Ctx(t, wait))
		if err != nil || code != websocket.StatusGoingAway {
			t.Fatalf("close = %v (%v), want 1001", code, err)
		}
	}
	// Nothing listens any more.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := servertest.NewAPI(p.s.URL, p.s.AnonKey, &http.Client{}).Do(ctx, http.MethodGet, "/watchparty/v1/info", "", nil); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
}
