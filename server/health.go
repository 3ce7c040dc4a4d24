package server

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz is GET /healthz (docs/deploy-server.md): 200 {"status":"ok"} while the server
// serves and its database answers, 503 otherwise. It needs no key and tells nothing about the
// server's activity, so a load balancer or an uptime check may call it.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("healthz: database", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}
