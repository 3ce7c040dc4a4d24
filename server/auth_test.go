package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/watchparty/watchparty/server"
	"github.com/watchparty/watchparty/server/servertest"
)

func TestAuth(t *testing.T) {
	var clk clock
	s := servertest.Start(t, server.Config{Now: clk.Now, Version: "v9"})
	api := s.API().For(t)

	r := api.Do(http.MethodGet, "/watchparty/v1/info", "", nil)
	if r.Status != 200 || r.Object()["anon_key"] != s.AnonKey || r.Object()["version"] != "v9" {
		t.Fatalf("info: %d %s", r.Status, r.Body)
	}

	r = api.Do(http.MethodPost, "/auth/v1/signup", "", map[string]any{"data": map[string]any{}, "gotrue_meta_security": map[string]any{}})
	o := r.Object()
	if r.Status != 200 || o["token_type"] != "bearer" || o["expires_in"] != 3600.0 || servertest.Dig(o, "user", "is_anonymous") != true {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	if exp, _ := o["expires_at"].(float64); int64(exp) < time.Now().Add(59*time.Minute).Unix() {
		t.Fatalf("expires_at %v is not an hour ahead", o["expires_at"])
	}
	sess := api.SignUp()
	if r := api.Do(http.MethodGet, "/auth/v1/user", sess.AccessToken, nil); r.Status != 200 || r.Object()["id"] != sess.UserID {
		t.Fatalf("/user: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodGet, "/auth/v1/user", "", nil); r.Status != 401 || r.Object()["code"] != "no_authorization" {
		t.Fatalf("/user without token: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodGet, "/auth/v1/user", "x.y.z", nil); r.Status != 403 || r.Object()["code"] != "bad_jwt" {
		t.Fatalf("/user with bad token: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodPost, "/auth/v1/signup", "", map[string]any{"email": "a@b.c", "password": "hunter22"}); r.Status != 422 {
		t.Fatalf("email signup: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodPost, "/auth/v1/token?grant_type=password", "", map[string]any{"email": "a@b.c"}); r.Status != 400 {
		t.Fatalf("password grant: %d %s", r.Status, r.Body)
	}

	// Rotation: the new token works, the old one keeps working for 10 s (a TUI and a script
	// sharing one session), then is refused.
	refresh := func(tok string) (servertest.Session, servertest.Response) {
		t.Helper()
		next, resp, err := s.API().Refresh(t.Context(), tok)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		return next, resp
	}
	next, resp := refresh(sess.RefreshToken)
	if resp.Status != 200 || next.RefreshToken == sess.RefreshToken || next.UserID != sess.UserID {
		t.Fatalf("refresh: %d %s", resp.Status, resp.Body)
	}
	clk.Set(5 * time.Second)
	again, resp := refresh(sess.RefreshToken)
	if resp.Status != 200 || again.UserID != sess.UserID || again.RefreshToken != next.RefreshToken {
		t.Fatalf("reuse within the window must return the same child: %d %s (child %s)", resp.Status, resp.Body, next.RefreshToken)
	}
	clk.Set(11 * time.Second)
	if _, resp := refresh(sess.RefreshToken); resp.Status != 400 || resp.Object()["code"] != "refresh_token_already_used" {
		t.Fatalf("reuse after the window: %d %s", resp.Status, resp.Body)
	}
	// A parent reused after the window means the family leaked: the whole session ends, its
	// newest refresh token and its unexpired access token with it.
	if _, resp := refresh(next.RefreshToken); resp.Status != 400 || resp.Object()["code"] != "refresh_token_not_found" {
		t.Fatalf("the child after the family was revoked: %d %s", resp.Status, resp.Body)
	}
	if r := api.Do(http.MethodPost, "/functions/v1/rooms/create", next.AccessToken, map[string]any{"username": "x"}); r.Status != 401 {
		t.Fatalf("an access token of a revoked session still works: %d %s", r.Status, r.Body)
	}
	if _, resp := refresh("no-such-token"); resp.Status != 400 || resp.Object()["code"] != "refresh_token_not_found" {
		t.Fatalf("unknown refresh token: %d %s", resp.Status, resp.Body)
	}
	sess = api.SignUp()
	third, resp := refresh(sess.RefreshToken)
	if resp.Status != 200 {
		t.Fatalf("refresh of a new session: %d %s", resp.Status, resp.Body)
	}

	// Logout ends the session: its tokens stop working for /user and refresh.
	if r := api.Do(http.MethodPost, "/auth/v1/logout?scope=global", third.AccessToken, nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodGet, "/auth/v1/user", third.AccessToken, nil); r.Status != 403 || r.Object()["code"] != "session_not_found" {
		t.Fatalf("/user after logout: %d %s", r.Status, r.Body)
	}
	if _, resp := refresh(third.RefreshToken); resp.Status != 400 || resp.Object()["code"] != "refresh_token_not_found" {
		t.Fatalf("refresh after logout: %d %s", resp.Status, resp.Body)
	}
	if r := api.Do(http.MethodPost, "/functions/v1/rooms/create", third.AccessToken, map[string]any{"username": "x"}); r.Status != 401 {
		t.Fatalf("an access token of a signed-out session still works: %d %s", r.Status, r.Body)
	}
	if r := api.Do(http.MethodGet, "/auth/v1/nothing", "", nil); r.Status != 404 {
		t.Fatalf("unknown auth path: %d %s", r.Status, r.Body)
	}
}
