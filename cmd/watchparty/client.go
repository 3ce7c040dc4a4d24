package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/watchparty/watchparty/config"
	"github.com/watchparty/watchparty/room"
)

// defaultServer is the embedded server's default address.
const defaultServer = "http://127.0.0.1:54321"

// clientEnv is what every client command resolves first: the server, the user's files and
// settings.
type clientEnv struct {
	server   room.Server
	settings config.Settings
	paths    config.Paths
}

// resolve applies the precedence flag > environment > config file > default.
func (g *globalFlags) resolve(logger *slog.Logger) (clientEnv, error) {
	paths, err := config.ResolvePaths()
	if err != nil {
		return clientEnv{}, err
	}
	settings, err := config.Load(paths)
	if err != nil {
		return clientEnv{}, err
	}
	url := firstNonEmpty(g.server, os.Getenv("WATCHPARTY_SERVER"), settings.Server, defaultServer)
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	key := firstNonEmpty(g.anonKey, os.Getenv("WATCHPARTY_ANON_KEY"), settings.AnonKey)
	return clientEnv{
		server:   room.Server{URL: url, AnonKey: key, SessionDir: filepath.Join(paths.State, "sessions"), Logger: logger},
		settings: settings, paths: paths,
	}, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// displayName picks the name shown in rooms: --name, the config file, the login name.
func displayName(flag string, settings config.Settings) string {
	if n := firstNonEmpty(flag, settings.Name); n != "" {
		return n
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "guest"
}

// connect signs in to the server for a one-shot command.
func (g *globalFlags) connect(ctx context.Context) (*room.Remote, clientEnv, error) {
	env, err := g.resolve(quietLogger())
	if err != nil {
		return nil, env, err
	}
	r, err := room.Connect(ctx, env.server)
	if err != nil {
		return nil, env, err
	}
	return r, env, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// classify gives backend errors their exit codes (docs/design.md §4).
func classify(err error) error {
	var ee *exitError
	switch {
	case err == nil, errors.As(err, &ee):
		return err
	case errors.Is(err, room.ErrRoomNotFound):
		return &exitError{exitNotFound, err}
	case errors.Is(err, room.ErrNotHost), errors.Is(err, room.ErrNotAllowed):
		return &exitError{exitNotAllowed, err}
	case errors.Is(err, context.Canceled):
		return &exitError{exitFailure, errors.New("interrupted")}
	}
	return err
}

// roomFlag checks a --room value.
func roomFlag(id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", usageErrorf("--room is required")
	}
	return id, nil
}

func printJSONLine(w io.Writer, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
