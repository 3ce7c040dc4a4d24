package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The profiling endpoints are off by default and only ever on a loopback address.
func TestPprofLoopbackOnly(t *testing.T) {
	t.Setenv(pprofEnv, "")
	if addr, _, err := startPprof(); addr != "" || err != nil {
		t.Fatalf("unset: %q, %v; want off", addr, err)
	}
	for _, bad := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "nonsense"} {
		t.Setenv(pprofEnv, bad)
		if addr, _, err := startPprof(); err == nil || addr != "" {
			t.Errorf("%s=%q: %q, %v; want refused", pprofEnv, bad, addr, err)
		}
	}
	t.Setenv(pprofEnv, "127.0.0.1:0")
	addr, stop, err := startPprof()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/memory")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "/memory/classes/heap/stacks:bytes") {
		t.Errorf("/debug/memory: %q", body)
	}
}
