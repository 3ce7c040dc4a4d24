package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"github.com/watchparty/watchparty/server/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench server|sync",
		Short: "Measure the server or the sync engine on loopback and print figures",
		Long: `Measure on loopback and print figures.

bench server starts "watchparty serve" as a child process (so its memory is the server's
alone), or uses --server URL, and runs --clients simulated clients in rooms of
--room-size: each signs in, joins its room's channel like a browser client (three
postgres_changes bindings and presence), calls track_user_presence every 3 s, and each
host sends a control now and then. It prints connections held, events delivered per
second, delivery latency (write sent → change decoded by each member) p50/p90/p99,
lost events and the server's RSS per connection. Many clients need many file
descriptors: raise "ulimit -n" first (each client uses two on each side).

` + benchSyncHelp,
		Example: `  watchparty bench server --clients 1000
  watchparty bench server --clients 5000 --duration 60s
  watchparty bench sync
  watchparty bench sync --runs 3 --load 2 --check
  watchparty bench sync --runs 3 --latency 40ms --jitter 10ms`,
		Args:      exactArgs(1, "server or sync"),
		ValidArgs: []string{"server", "sync"},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "sync":
				return benchSync(cmd, args[1:])
			case "server":
				return benchServer(cmd)
			}
			return usageErrorf("unknown benchmark %q: use server or sync", args[0])
		},
	}
	addBenchSyncFlags(cmd)
	addBenchServerFlags(cmd)
	return cmd
}

// addBenchServerFlags registers the flags of `watchparty bench server`.
func addBenchServerFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Int("clients", 1000, "server: simulated clients")
	f.Int("room-size", 10, "server: clients per room (the first is host)")
	f.Duration("duration", 30*time.Second, "server: length of the measured load phase")
	f.Duration("warmup", 5*time.Second, "server: load before the measurement starts (connection pools, heap growth)")
	f.Duration("track-every", 3*time.Second, "server: track_user_presence period per client")
	f.Duration("control-every", 10*time.Second, "server: mean period of each host's controls")
	f.Bool("in-process", false, "server: run the server in this process instead of a child process (no RSS figure)")
	f.String("server-bin", "", "server: run this watchparty binary's serve as the child instead of this one (A/B of two builds under the same load)")
	f.StringArray("server-env", nil, "server: KEY=VALUE added to the child server's environment (repeatable), e.g. GOGC=50")
	f.String("cpuprofile", "", "server: write a CPU profile of this process to FILE (use with --in-process to profile the server)")
	f.Bool("metrics", false, "server: scrape the server's /metrics when the measurement starts and ends, and print its figures next to the bench's")
	f.String("metrics-url", "", "server: with --server, the server's metrics URL (http://ADDR/metrics of its --metrics-listen)")
	f.String("memprofile", "", "server: write a heap profile of this process to FILE at the end of the load (use with --in-process)")
}

func benchServer(cmd *cobra.Command) error {
	f := cmd.Flags()
	var cfg bench.Config
	cfg.Clients, _ = f.GetInt("clients")
	cfg.RoomSize, _ = f.GetInt("room-size")
	cfg.Duration, _ = f.GetDuration("duration")
	cfg.Warmup, _ = f.GetDuration("warmup")
	cfg.TrackEvery, _ = f.GetDuration("track-every")
	cfg.ControlEvery, _ = f.GetDuration("control-every")
	inProcess, _ := f.GetBool("in-process")
	cfg.ServerEnv, _ = f.GetStringArray("server-env")
	cpuProfile, _ := f.GetString("cpuprofile")
	memProfile, _ := f.GetString("memprofile")
	cfg.ServerURL, _ = f.GetString("server") // the global --server flag
	cfg.Metrics, _ = f.GetBool("metrics")
	cfg.MetricsURL, _ = f.GetString("metrics-url")
	if cfg.Metrics && cfg.ServerURL != "" && cfg.MetricsURL == "" {
		return usageErrorf("--metrics with --server needs --metrics-url (the server's --metrics-listen address)")
	}
	switch {
	case cfg.Clients < 1 || cfg.RoomSize < 1:
		return usageErrorf("--clients and --room-size must be at least 1")
	case cfg.Duration < time.Second || cfg.Warmup < 0:
		return usageErrorf("--duration must be at least 1s and --warmup not negative")
	case cfg.TrackEvery < 100*time.Millisecond || cfg.ControlEvery < time.Second:
		return usageErrorf("--track-every must be at least 100ms and --control-every at least 1s")
	}
	if cfg.ServerURL == "" && !inProcess {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program to start the server: %w", err)
		}
		cfg.ServerBinary = exe
		if bin, _ := f.GetString("server-bin"); bin != "" {
			cfg.ServerBinary = bin
		}
	}
	cfg.Log = cmd.ErrOrStderr()
	if cpuProfile != "" {
		out, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg.HeapProfile = memProfile
	res, err := bench.Run(cmd.Context(), cfg)
	if err != nil {
		return fmt.Errorf("bench server: %w", err)
	}
	res.Print(cmd.OutOrStdout())
	res.PrintServer(cmd.OutOrStdout())
	return nil
}
