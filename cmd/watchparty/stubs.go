package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNotBuilt marks commands whose issue has not landed yet.
func errNotBuilt(name string) error {
	return errors.New(name + " is not built yet: for now run \"watchparty serve\" and use a Supabase client against it")
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench server|sync",
		Short: "Measure the server or the sync engine on loopback and print figures",
		Example: `  watchparty bench server --clients 1000
  watchparty bench sync`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"server", "sync"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "sync" {
				return benchSync(cmd, args[1:])
			}
			return errNotBuilt("bench " + args[0])
		},
	}
	addBenchSyncFlags(cmd)
	return cmd
}
