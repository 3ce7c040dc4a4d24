package syncbench

import (
	"os"
	"syscall"
	"testing"
)

// Stop leaves no worker running.
func TestLoadStopEndsWorkers(t *testing.T) {
	l, err := StartLoad(2)
	if err != nil {
		t.Skip(err) // no sh
	}
	pids := l.Pids()
	if len(pids) != 2 {
		t.Fatalf("%d workers, want 2", len(pids))
	}
	l.Stop()
	l.Stop() // twice is fine
	for _, pid := range pids {
		p, err := os.FindProcess(pid)
		if err != nil {
			continue
		}
		if err := p.Signal(syscall.Signal(0)); err == nil {
			t.Errorf("worker %d still runs after Stop", pid)
		}
	}
}
