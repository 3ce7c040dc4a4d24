//go:build !windows

package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSystemdUnit: packaging/watchparty.service passes `systemd-analyze verify` (with its
// ExecStart pointed at this test's binary), when systemd-analyze is installed.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	bin, err := exec.LookPath("watchparty") // the test binary (testscript.Main puts it on PATH)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("../../packaging/watchparty.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/watchparty serve ") {
		t.Fatal("the unit's ExecStart is not /usr/local/bin/watchparty serve …")
	}
	file := filepath.Join(t.TempDir(), "watchparty.service")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/watchparty", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", file).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestPackagedCommandLines: the serve command lines of the systemd unit (with its default
// WATCHPARTY_SERVE_ARGS) and of the container image (ENTRYPOINT + CMD) are accepted by serve,
// which starts with them and answers /healthz. Paths and the port are moved into the test.
func TestPackagedCommandLines(t *testing.T) {
	unit, err := os.ReadFile("../../packaging/watchparty.service")
	if err != nil {
		t.Fatal(err)
	}
	exec1 := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/watchparty (.*)$`).FindSubmatch(unit)
	env := regexp.MustCompile(`(?m)^Environment=WATCHPARTY_SERVE_ARGS=(.*)$`).FindSubmatch(unit)
	if exec1 == nil || env == nil {
		t.Fatal("no ExecStart or WATCHPARTY_SERVE_ARGS in the unit")
	}
	unitArgs := strings.Fields(strings.ReplaceAll(string(exec1[1]), "$WATCHPARTY_SERVE_ARGS", string(env[1])))

	docker, err := os.ReadFile("../../packaging/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var entry, cmd []string
	for _, line := range strings.Split(string(docker), "\n") {
		if v, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			must(t, json.Unmarshal([]byte(v), &entry))
		}
		if v, ok := strings.CutPrefix(line, "CMD "); ok {
			must(t, json.Unmarshal([]byte(v), &cmd))
		}
	}
	if len(entry) < 2 || entry[0] != "/usr/local/bin/watchparty" {
		t.Fatalf("ENTRYPOINT %q", entry)
	}
	imageArgs := append(entry[1:], cmd...)

	for name, args := range map[string][]string{"systemd unit": unitArgs, "container image": imageArgs} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for i, a := range args {
				switch {
				case strings.HasPrefix(a, "/var/lib/watchparty"), strings.HasPrefix(a, "/home/nonroot"):
					args[i] = filepath.Join(dir, filepath.Base(a))
				case a == ":54321", a == "--listen=127.0.0.1:54321":
					args[i] = strings.Replace(a, strings.TrimPrefix(a, "--listen="), "127.0.0.1:0", 1)
				}
			}
			srv := startServe(t, append(os.Environ(), "WATCHPARTY_HOME="+dir), args[1:]...)
			if args[0] != "serve" {
				t.Fatalf("command line %q does not run serve", args)
			}
			url := waitLine(t, srv.stdout, regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)$`), "serve's URL")[1]
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /healthz: %s", resp.Status)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
