package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os/user"
	"strings"
	"unicode"

	"github.com/watchparty/watchparty/room"
)

// Who you are on a server: the saved session is keyed by the server's identity (room.Identify),
// so any URL that reaches the server acts as the same user, and so is the name you chose.

// nameFor is the display name on the server env.server (identified): --name, else the name
// last chosen with --name for this server, else config "name", else a default that differs
// between people (defaultName).
func nameFor(flag string, env clientEnv, userID string) string {
	if n := strings.TrimSpace(flag); n != "" {
		return n
	}
	if n := env.paths.SavedName(env.server.SessionKey); n != "" {
		return n
	}
	if n := strings.TrimSpace(env.settings.Name); n != "" {
		return n
	}
	return defaultName(userID)
}

// defaultName is the login name plus 4 hex digits from the user id of the saved session
// ("root-3f9a"): on a shared machine, or in containers where everyone is root, the login
// name alone is everyone's; the suffix stays the same for as long as the saved session does.
func defaultName(userID string) string {
	login := "guest"
	if u, err := user.Current(); err == nil {
		if n := strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' {
				return r
			}
			return -1
		}, u.Username); n != "" {
			login = n
		}
	}
	if len([]rune(login)) > 24 {
		login = string([]rune(login)[:24])
	}
	if userID == "" {
		return login
	}
	sum := sha256.Sum256([]byte(userID))
	return login + "-" + hex.EncodeToString(sum[:2])
}

// rememberName saves --name as the name chosen for this server, once it has been used there.
func rememberName(flag string, env clientEnv) {
	if n := strings.TrimSpace(flag); n != "" && env.server.SessionKey != "" {
		_ = env.paths.SaveName(env.server.SessionKey, n) // a name not saved is asked again: no error worth failing for
	}
}

// signIn identifies the server and signs in (the saved session for its identity), and settles
// the display name. The caller closes the Remote.
func signIn(ctx context.Context, env *clientEnv, flagName string) (*room.Remote, string, error) {
	if env.server.SessionKey == "" || env.server.AnonKey == "" {
		srv, err := room.Identify(ctx, env.server)
		if err != nil {
			return nil, "", err
		}
		env.server = srv
	}
	r, err := room.Connect(ctx, env.server)
	if err != nil {
		return nil, "", err
	}
	name := nameFor(flagName, *env, r.UserID())
	if _, err := room.CheckUsername(name); err != nil {
		r.Close()
		return nil, "", usageErrorf("%v", err)
	}
	return r, name, nil
}
