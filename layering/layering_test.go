// Package layering holds the test of the import rule between the project's packages: the
// server links no client code, the pure packages stay pure, the screen knows nothing of the
// backend or of the user's configuration, and nothing imports a command.
package layering

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/watchparty/watchparty"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath   string
	Deps         []string // transitive, non-test
	TestImports  []string
	XTestImports []string
}

// rule forbids the packages matching from to link (or, with tests, to import in their tests)
// the project packages that forbidden says yes to.
type rule struct {
	name      string
	from      func(p string) bool
	forbidden func(dep string) bool
	tests     bool // also check the direct imports of the package's tests
}

// under reports whether p is one of the packages roots name, or below one of them.
func under(roots ...string) func(string) bool {
	return func(p string) bool {
		for _, r := range roots {
			if p == r || strings.HasPrefix(p, r+"/") {
				return true
			}
		}
		return false
	}
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

// The rule as built. Paths are relative to the module.
var rules = []rule{
	{
		// The backend is deployable alone: it shares only the wire types (realtime/phx) and
		// the text sanitiser with the client.
		name:      "server/... links only server/..., realtime/phx and textsafe",
		from:      under("server"),
		forbidden: not(under("server", "realtime/phx", "textsafe")),
		tests:     true,
	},
	{
		name:      "party, player and textsafe import no other project package",
		from:      under("party", "player", "textsafe"),
		forbidden: func(dep string) bool { return true },
	},
	{
		name:      "the client (room, realtime, tui, headless) links no backend (server/...) and no command",
		from:      under("room", "realtime", "tui", "headless"),
		forbidden: under("server", "cmd", "bench"),
	},
	{
		name:      "tui and headless import neither server nor config",
		from:      under("tui", "headless"),
		forbidden: under("server", "config"),
		tests:     true,
	},
	{
		name:      "nothing imports cmd/...",
		from:      not(under("cmd")),
		forbidden: under("cmd"),
		tests:     true,
	},
}

func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	touchSources(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the module path changed?", len(pkgs))
	}
	checked := 0
	for _, p := range pkgs {
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !r.from(from) {
				continue
			}
			checked++
			deps := p.Deps
			if r.tests {
				deps = slices.Concat(deps, p.TestImports, p.XTestImports)
			}
			for _, d := range deps {
				dep, ok := rel(d)
				if ok && dep != from && r.forbidden(dep) {
					t.Errorf("%s links %s: breaks the rule %q", from, dep, r.name)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package matched any rule")
	}
}

// rel returns p relative to the module ("" for the module's root) and whether p is in it.
func rel(p string) (string, bool) {
	if p == module {
		return "", true
	}
	r, ok := strings.CutPrefix(p, module+"/")
	return r, ok
}

// touchSources stats every Go file of the module, so that go test's cache, which records the
// files a test looks at, runs this test again when any import changes (go list, a child
// process, is invisible to it).
func touchSources(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk the module: %v", err)
	}
}
