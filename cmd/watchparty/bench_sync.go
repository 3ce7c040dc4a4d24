package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/bench/syncbench"
)

// addBenchSyncFlags registers the flags of `watchparty bench sync` on the bench command.
// Their names are sync-specific so they cannot clash with `bench server`'s.
func addBenchSyncFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Duration("steady", 60*time.Second, "sync: how long to measure steady play")
	f.Int("seeks", 10, "sync: host seeks to time (alternating forward and back)")
	f.Int("pauses", 30, "sync: host pause/play cycles to time")
	f.Int("followers", 3, "sync: followers besides the host")
	f.Bool("check", false, "sync: exit 1 when a target is missed (steady drift p95 <= 50 ms, seek convergence p95 <= 200 ms, pause latency p99 <= 100 ms, no failed seek or pause)")
}

// benchSync runs the sync benchmark (package bench/syncbench) and prints its figures.
func benchSync(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("bench sync takes no arguments, got %q", args)
	}
	f := cmd.Flags()
	var cfg syncbench.SyncConfig
	var check bool
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
	}
	cfg.Progress = cmd.ErrOrStderr()
	res, err := syncbench.RunSync(cmd.Context(), cfg)
	if err != nil {
		return fmt.Errorf("bench sync: %w", err)
	}
	res.Print(cmd.OutOrStdout())
	if check && !res.Met() {
		return errors.New("bench sync: a target was missed")
	}
	return nil
}
