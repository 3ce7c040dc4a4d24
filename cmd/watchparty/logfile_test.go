package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// A log written far past its cap by several writers at once keeps the cap: the live file and
// its backups each stay within it, nothing beyond the last backup is kept, and no line is split.
func TestRotatingLogKeepsItsCap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "watchparty.log")
	const max = 4096
	l, err := openRotatingLog(path, max, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				fmt.Fprintf(l, "writer %d line %04d %s\n", w, i, bytes.Repeat([]byte("x"), 40))
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
		info, _ := e.Info()
		if info.Size() > max {
			t.Errorf("%s is %d bytes, over the %d cap", e.Name(), info.Size(), max)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", e.Name(), info.Mode().Perm())
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			if !bytes.HasPrefix(line, []byte("writer ")) || len(line) != len("writer 0 line 0000 ")+40 {
				t.Fatalf("%s: broken line %q", e.Name(), line)
			}
		}
	}
	if len(names) != 3 || !names["watchparty.log"] || !names["watchparty.log.1"] || !names["watchparty.log.2"] {
		t.Fatalf("files %v, want the log and two backups", names)
	}

	// Reopening a full log rotates it at once.
	if err := os.WriteFile(path, bytes.Repeat([]byte("y"), max), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = openRotatingLog(path, max, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Fatalf("reopened full log has %d bytes", st.Size())
	}
	if _, err := l.Write([]byte("after\n")); err != nil {
		t.Fatal(err)
	}
}
