// Command screenshots makes the README's pictures from a real party. It builds watchparty,
// renders a clip with ffmpeg, starts `watchparty serve` on loopback and runs a host's and a
// follower's party screen in tmux at 100×30, each with a real mpv (--vo=null --ao=null). It
// drives them with keys as people would (a comment each way; the host plays, seeks, pauses and
// opens the help), captures the panes with their colours (tmux capture-pane -e) and renders
// each capture to SVG with charmbracelet/freeze.
//
//	make screenshots    # installs freeze in bin/, then: go run ./tools/screenshots -freeze bin/freeze
//
// Without -freeze it drives the party and captures the screens but renders nothing (its test
// does that where freeze is not installed). The pictures are only ever made by this program:
// never edit them by hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.out, "out", filepath.Join("docs", "img"), "directory the SVG pictures are written to")
	flag.StringVar(&o.freeze, "freeze", "", "the freeze binary that renders the captures (empty: capture only)")
	flag.StringVar(&o.bin, "watchparty", "", "a watchparty binary to use (empty: build ./cmd/watchparty)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "screenshots: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	o.logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "screenshots: "+format+"\n", args...) }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	shots, err := run(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "screenshots: %v\n", err)
		os.Exit(1)
	}
	if o.freeze == "" {
		o.logf("captured %d screens; nothing rendered (no -freeze given)", len(shots))
	}
}

// options are what one run needs.
type options struct {
	out    string // where the pictures go
	freeze string // the renderer; empty: capture only
	bin    string // a watchparty binary; empty: build one
	logf   func(format string, args ...any)
}

// shot is one captured screen: its name (the picture is out/name.svg) and the pane's text with
// tmux's SGR sequences.
type shot struct {
	name, ansi string
}

// run plays the party and returns the captures, rendered to o.out when o.freeze is set.
func run(ctx context.Context, o options) (shots []shot, err error) {
	for _, tool := range []string{"tmux", "mpv", "ffmpeg"} {
		if _, err := lookPath(tool); err != nil {
			return nil, err
		}
	}
	work, err := os.MkdirTemp("", "wp-shots-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	if o.bin == "" {
		o.logf("building watchparty")
		if o.bin, err = buildWatchparty(ctx, work); err != nil {
			return nil, err
		}
	}
	clip, err := makeClip(ctx, work)
	if err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, o.bin, work)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()

	o.logf("party on %s", srv.url)
	shots, err = playParty(ctx, o, work, srv.url, clip)
	if err != nil {
		return nil, err
	}
	if o.freeze == "" {
		return shots, nil
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	for _, s := range shots {
		out := filepath.Join(o.out, s.name+".svg")
		if err := render(ctx, o.freeze, work, s, out); err != nil {
			return nil, err
		}
		o.logf("wrote %s", out)
	}
	return shots, nil
}
