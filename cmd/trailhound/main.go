// Command trailhound runs Trailhound's detection pipeline on CloudTrail log
// files, with an embedded store: for incident responders, demos and tests.
//
//	trailhound replay [flags] PATH...       events in, signals and incidents out
//	trailhound investigate --identity ID PATH...   the story of one identity
//
// Results go to stdout, everything else to stderr.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the CLI's entry point, separated from main for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCommand(stdout, stderr)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "trailhound:", err)
		if isUsage(err) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}
