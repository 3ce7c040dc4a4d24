package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/watchparty/watchparty/bench/syncbench"
	"github.com/watchparty/watchparty/server"
)

// TestMain lets the test binary run as the real watchparty command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"watchparty": func() { os.Exit(run(os.Args[1:])) },
	})
}

// scriptClip is one test clip for the scripts that run mpv, made on first use.
var scriptClip struct {
	once sync.Once
	path string
	err  error
}

// TestScripts runs testdata/script/*.txtar against the real binary and an embedded server
// started for each script (WATCHPARTY_SERVER points at it, $SERVER_PORT is its port;
// WATCHPARTY_HOME is per script).
//
// Extra commands:
//
//	wp CODE ARGS...          run watchparty ARGS, require exit code CODE; on a failure, stderr
//	                         must be one line "watchparty: " + a message not starting upper-case
//	stdout2env NAME          set $NAME to the last command's stdout, trimmed
//	waitstatus ROOM REGEXP   run "watchparty status --room ROOM --json" until stdout matches (30 s)
//
// Condition [mpv]: mpv and ffmpeg are on PATH; then $CLIP is a 60 s test clip.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupScript,
		Condition: func(cond string) (bool, error) {
			if cond == "mpv" {
				return syncbench.NeedPrograms() == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"wp":         cmdWP,
			"stdout2env": cmdStdoutToEnv,
			"waitstatus": cmdWaitStatus,
		},
	})
}

func setupScript(env *testscript.Env) error {
	srv, err := server.Start(server.Config{DataDir: filepath.Join(env.WorkDir, "server-data")}, "127.0.0.1:0")
	if err != nil {
		return err
	}
	env.Defer(func() { srv.Stop() })
	env.Setenv("WATCHPARTY_SERVER", srv.URL)
	env.Setenv("SERVER_PORT", strconv.Itoa(srv.Addr.Port))
	env.Setenv("WATCHPARTY_HOME", filepath.Join(env.WorkDir, "home", "alice"))
	env.Setenv("NO_COLOR", "1")
	if syncbench.NeedPrograms() == nil {
		scriptClip.once.Do(func() {
			dir, err := os.MkdirTemp("", "watchparty-script-clip-")
			if err != nil {
				scriptClip.err = err
				return
			}
			scriptClip.path = filepath.Join(dir, "clip.mp4")
			scriptClip.err = syncbench.MakeClip(scriptClip.path, 60)
		})
		if scriptClip.err != nil {
			return scriptClip.err
		}
		env.Setenv("CLIP", scriptClip.path)
	}
	return nil
}

func cmdWP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: wp CODE ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("wp: bad exit code %q", args[0])
	}
	err = ts.Exec("watchparty", args[1:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("wp: %v", err)
	}
	if got != want {
		ts.Fatalf("watchparty %s: exit code %d, want %d", strings.Join(args[1:], " "), got, want)
	}
	if got == 0 {
		return
	}
	stderr := ts.ReadFile("stderr")
	line := strings.TrimSuffix(stderr, "\n")
	msg, ok := strings.CutPrefix(line, "watchparty: ")
	if !ok || strings.Contains(line, "\n") || msg == "" || unicode.IsUpper([]rune(msg)[0]) {
		ts.Fatalf("watchparty %s: stderr is not one lower-case error line: %q", strings.Join(args[1:], " "), stderr)
	}
}

func cmdStdoutToEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stdout2env NAME")
	}
	v := strings.TrimSpace(ts.ReadFile("stdout"))
	if v == "" {
		ts.Fatalf("stdout2env: stdout is empty")
	}
	ts.Setenv(args[0], v)
}

func cmdWaitStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitstatus ROOM REGEXP")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("waitstatus: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ts.Exec("watchparty", "status", "--room", args[0], "--json")
		out := ts.ReadFile("stdout")
		if err == nil && re.MatchString(out) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitstatus: no match for %q within 30 s (last: %v %s)", args[1], err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
