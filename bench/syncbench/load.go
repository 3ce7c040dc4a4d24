package syncbench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// busyLoop is a shell loop that keeps one core busy and ends by itself once its parent (the
// benchmark) is gone, so a benchmark killed with SIGKILL leaves no worker behind for long.
const busyLoop = `i=0; while :; do i=$((i+1)); if [ $i -ge 200000 ]; then kill -0 "$1" 2>/dev/null || exit 0; i=0; fi; done`

// Load is a set of busy CPU workers, each a separate process (sh running a busy loop).
type Load struct {
	cmds []*exec.Cmd
}

// StartLoad starts k busy workers. Stop them with Stop.
func StartLoad(k int) (*Load, error) {
	l := &Load{}
	if k <= 0 {
		return l, nil
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, errors.New("--load needs sh on PATH")
	}
	for range k {
		c := exec.Command(sh, "-c", busyLoop, "busy", strconv.Itoa(os.Getpid()))
		if err := c.Start(); err != nil {
			l.Stop()
			return nil, fmt.Errorf("start a load worker: %w", err)
		}
		l.cmds = append(l.cmds, c)
	}
	return l, nil
}

// Pids are the workers' process ids.
func (l *Load) Pids() []int {
	var ps []int
	for _, c := range l.cmds {
		ps = append(ps, c.Process.Pid)
	}
	return ps
}

// Stop kills every worker and waits for it. Stopping twice does nothing.
func (l *Load) Stop() {
	for _, c := range l.cmds {
		c.Process.Kill()
		c.Wait()
	}
	l.cmds = nil
}
