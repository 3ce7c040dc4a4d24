package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/bench/syncbench"
)

// benchSyncHelp is the part of `watchparty bench --help` about bench sync.
const benchSyncHelp = `bench sync measures the sync engine with real mpv players on loopback: a host and
--followers followers, each with its own mpv, playing a 100 fps clip (positions resolve to
10 ms). It prints, in ms, the steady drift between each follower and the host (and each
follower's signed mean), how long after a host seek every follower is within 100 ms with
a timeline of each seek, how long after a host pause each follower is paused and how far
from the host's frame they stop, and what one more follower run as its own process costs
(CPU, RSS; Linux). --load K runs K busy CPU workers during it, --latency and --jitter put
a TCP delay proxy between every client and the server, --runs R repeats it and pools.

` + syncbench.TargetsHelp

// addBenchSyncFlags registers the flags of `watchparty bench sync` on the bench command.
// Their names are sync-specific so they cannot clash with `bench server`'s.
func addBenchSyncFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Duration("steady", 60*time.Second, "sync: how long to measure steady play")
	f.Int("seeks", 10, "sync: host seeks to time (alternating forward and back)")
	f.Int("pauses", 30, "sync: host pause/play cycles to time")
	f.Int("followers", 3, "sync: followers besides the host")
	f.Int("runs", 1, "sync: repeat the whole measurement this many times and pool the figures")
	f.Int("load", 0, "sync: busy CPU workers (separate processes) running during the measurement")
	f.Duration("latency", 0, "sync: one-way delay of a TCP proxy put between every client and the server (e.g. 40ms)")
	f.Duration("jitter", 0, "sync: with --latency, each chunk's delay varies uniformly by ± this much")
	f.Bool("client-cost", true, "sync: measure the CPU and memory of one more follower run as its own process")
	f.Bool("check", false, "sync: exit 1 when a target is missed (see the targets above)")
}

// benchSync runs the sync benchmark (package bench/syncbench) and prints its figures.
func benchSync(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("bench sync takes no arguments, got %q", args)
	}
	f := cmd.Flags()
	var cfg syncbench.SyncConfig
	var check, clientCost bool
	var errs []error
	get := func(err error) { errs = append(errs, err) }
	var err error
	cfg.Steady, err = f.GetDuration("steady")
	get(err)
	cfg.Seeks, err = f.GetInt("seeks")
	get(err)
	cfg.Pauses, err = f.GetInt("pauses")
	get(err)
	cfg.Followers, err = f.GetInt("followers")
	get(err)
	cfg.Runs, err = f.GetInt("runs")
	get(err)
	cfg.Load, err = f.GetInt("load")
	get(err)
	cfg.Latency, err = f.GetDuration("latency")
	get(err)
	cfg.Jitter, err = f.GetDuration("jitter")
	get(err)
	clientCost, err = f.GetBool("client-cost")
	get(err)
	check, err = f.GetBool("check")
	get(err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	switch {
	case cfg.Steady < time.Second:
		return usageErrorf("--steady must be at least 1s")
	case cfg.Seeks < 0 || cfg.Pauses < 0:
		return usageErrorf("--seeks and --pauses cannot be negative")
	case cfg.Followers < 1 || cfg.Followers > 20:
		return usageErrorf("--followers must be between 1 and 20")
	case cfg.Runs < 1 || cfg.Runs > 100:
		return usageErrorf("--runs must be between 1 and 100")
	case cfg.Load < 0 || cfg.Load > 64:
		return usageErrorf("--load must be between 0 and 64")
	case cfg.Latency < 0 || cfg.Latency > 5*time.Second:
		return usageErrorf("--latency must be between 0 and 5s")
	case cfg.Jitter < 0 || cfg.Jitter > cfg.Latency:
		return usageErrorf("--jitter must be between 0 and --latency")
	}
	if clientCost {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench sync: find this program to run a follower with it: %w (or pass --client-cost=false)", err)
		}
		cfg.Client = func(args ...string) *exec.Cmd {
			c := exec.Command(self, args...)
			c.Args[0] = "watchparty"
			return c
		}
	}
	cfg.Progress = cmd.ErrOrStderr()
	rep, err := syncbench.RunSync(cmd.Context(), cfg)
	if rep != nil {
		rep.Print(cmd.OutOrStdout()) // the runs that completed, even when a later one failed
	}
	if err != nil {
		return fmt.Errorf("bench sync: %w", err)
	}
	if check && !rep.Met() {
		return errors.New("bench sync: a target was missed")
	}
	return nil
}
