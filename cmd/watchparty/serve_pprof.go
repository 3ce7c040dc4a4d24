package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"
)

// pprofEnv names the environment variable that makes `watchparty serve` answer Go's profiling
// endpoints (/debug/pprof/: CPU, heap, goroutines, mutex, block) on a loopback address of its
// own, e.g. WATCHPARTY_PPROF=127.0.0.1:6060. Off unless set; for measuring the server under load
// (docs/benchmarks-server.md), never part of the served API.
const pprofEnv = "WATCHPARTY_PPROF"

// startPprof serves the profiling endpoints when pprofEnv is set, until stop. Only loopback
// addresses are accepted: profiles show memory contents such as tokens.
func startPprof() (addr string, stop func(), err error) {
	want := os.Getenv(pprofEnv)
	if want == "" {
		return "", func() {}, nil
	}
	host, _, err := net.SplitHostPort(want)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "", nil, fmt.Errorf("%s=%q: want a loopback host:port, e.g. 127.0.0.1:6060", pprofEnv, want)
	}
	ln, err := net.Listen("tcp", want)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", pprofEnv, err)
	}
	runtime.SetMutexProfileFraction(100) // one lock wait in 100 sampled: cheap, and says where writes queue
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/memory", memoryClasses)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// memoryClasses prints the runtime's memory classes (runtime/metrics "/memory/classes/…" and the
// goroutine count), which split the process's memory into heap objects, free heap, goroutine
// stacks and the runtime's own: what a socket costs beyond its heap objects.
func memoryClasses(w http.ResponseWriter, _ *http.Request) {
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || d.Name == "/sched/goroutines:goroutines" || d.Name == "/gc/heap/goal:bytes" {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(w, "%-50s %d\n", s.Name, s.Value.Uint64())
		}
	}
}
