package main

import (
	"fmt"
	"os"
	"sync"
)

// The client log (state/logs/watchparty.log: diagnostics and mpv's output) is capped: past
// logMaxBytes it is renamed to watchparty.log.1 (the older .1 to .2, the oldest dropped), so
// it never takes more than about (1+logBackups) × logMaxBytes.
const (
	logMaxBytes = 5 << 20
	logBackups  = 2
)

// rotatingLog is an append-only file with a size cap, safe for concurrent writers (slog and
// mpv's output pipe write at once). A small writer of our own rather than a library:
// lumberjack, the usual choice, starts a goroutine on rotation that Close does not stop and
// has had no release since 2023, and size-based rotation with two old files is all we need.
type rotatingLog struct {
	mu   sync.Mutex
	path string
	max  int64
	keep int
	f    *os.File
	size int64
}

// openRotatingLog opens path for appending (mode 0600), rotating first if it is already full.
func openRotatingLog(path string, maxBytes int64, keep int) (*rotatingLog, error) {
	l := &rotatingLog{path: path, max: maxBytes, keep: keep}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	l.f = f
	if st, err := f.Stat(); err == nil {
		l.size = st.Size()
	}
	if l.size >= l.max {
		if err := l.rotate(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return l, nil
}

// Write appends p, rotating first when p would take the file past the cap (a single write
// larger than the cap still goes in whole, into a fresh file).
func (l *rotatingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate shifts path → path.1 → … → path.keep (dropping the oldest) and starts a new file;
// l.mu is held.
func (l *rotatingLog) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	for i := l.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
	}
	if l.keep > 0 {
		os.Rename(l.path, l.path+".1")
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	l.f, l.size = f, 0
	return nil
}

// Close closes the file; later writes fail.
func (l *rotatingLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
