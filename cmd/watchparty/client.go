package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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

// resolve applies the precedence flag > environment > config file > default. A --server value
// that cannot be a server's address is a usage error.
func (g *globalFlags) resolve(logger *slog.Logger) (clientEnv, error) {
	paths, err := config.ResolvePaths()
	if err != nil {
		return clientEnv{}, err
	}
	settings, err := config.Load(paths)
	if err != nil {
		return clientEnv{}, err
	}
	g.warnConfig(paths, settings)
	raw := firstNonEmpty(g.server, os.Getenv("WATCHPARTY_SERVER"), settings.Server, defaultServer)
	url, err := room.ParseServerURL(raw)
	if err != nil {
		return clientEnv{}, usageErrorf("--server: %v", err)
	}
	key := firstNonEmpty(g.anonKey, os.Getenv("WATCHPARTY_ANON_KEY"), settings.AnonKey)
	return clientEnv{
		server:   room.Server{URL: url, AnonKey: key, SessionDir: filepath.Join(paths.State, "sessions"), Logger: logger},
		settings: settings, paths: paths,
	}, nil
}

// warnConfig warns once per run about keys of config.toml that mean nothing (a typo would
// otherwise be ignored silently).
func (g *globalFlags) warnConfig(paths config.Paths, settings config.Settings) {
	if len(settings.Unknown) == 0 || g.warned {
		return
	}
	g.warned = true
	w := g.errOut
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "watchparty: warning: %s: unknown key %s ignored (known keys: %s)\n",
		paths.ConfigFile(), strings.Join(quoteAll(settings.Unknown), ", "), config.Keys)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// connect identifies the server and signs in for a one-shot command.
func (g *globalFlags) connect(ctx context.Context) (*room.Remote, clientEnv, error) {
	env, err := g.resolve(quietLogger())
	if err != nil {
		return nil, env, err
	}
	if env.server, err = room.Identify(ctx, env.server); err != nil {
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
