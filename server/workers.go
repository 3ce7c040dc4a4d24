package server

import "time"

// workerIdle is how long a handler goroutine waits for more work before it ends.
const workerIdle = 10 * time.Second

// workers runs handlers (HTTP requests, WebSocket messages) on goroutines that live on between
// jobs while there is work: a goroutine's stack keeps the size its deepest call grew it to (a
// write goes deep through the store and SQLite), so a handler run on a fresh goroutine would
// grow a stack every time, and one run on a connection's own goroutine would keep that stack for
// the connection's life. A job goes to an idle worker, or to a new one when none is idle; a
// worker ends after workerIdle without a job, or when the server stops (docs/design.md §13).
type workers struct {
	jobs chan func() // unbuffered: a send succeeds only if a worker is idle
	stop <-chan struct{}
}

// do runs f on a worker and returns once it has run. A panic in f is raised again here, where
// the caller's recovery (net/http's) handles it.
func (p *workers) do(f func()) {
	var panicked any
	done := make(chan struct{})
	job := func() {
		defer func() { panicked = recover(); close(done) }()
		f()
	}
	select {
	case p.jobs <- job:
	default:
		go p.work(job)
	}
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

func (p *workers) work(job func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		job()
		idle.Reset(workerIdle)
		select {
		case job = <-p.jobs:
		case <-idle.C:
			return
		case <-p.stop:
			return
		}
	}
}
