package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/replay"
)

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") ||
		strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand") ||
		strings.Contains(err.Error(), "flag needs an argument") || strings.Contains(err.Error(), "invalid argument") ||
		strings.Contains(err.Error(), "arg(s)")
}

// commonFlags are the flags replay and investigate share.
type commonFlags struct {
	output         string
	state          string
	window         time.Duration
	learningEvents int64
	learningDays   float64
	progress       string
}

func (f *commonFlags) register(cmd *cobra.Command) {
	defaults := pipeline.DefaultOptions()
	fl := cmd.Flags()
	fl.StringVar(&f.output, "output", "text", "output format: text or jsonl (investigate: text or json)")
	fl.StringVar(&f.state, "state", "", "keep baselines, the key ledger and signals in this file between runs (bbolt)")
	fl.DurationVar(&f.window, "window", replay.DefaultWindow, "reordering window: how far out of event-time order records may come")
	fl.Int64Var(&f.learningEvents, "learning-events", defaults.Baseline.LearningEvents, "events an identity needs before first-seen facts are signalled")
	fl.Float64Var(&f.learningDays, "learning-days", defaults.Baseline.LearningPeriod.Hours()/24, "days of history an identity needs before first-seen facts are signalled")
	fl.StringVar(&f.progress, "progress", "auto", "progress line on stderr: auto (when stderr is a terminal), always or never")
}

// pipelineOptions validates the shared flags into pipeline options,
// reporting every problem at once.
func (f *commonFlags) pipelineOptions(outputs ...string) (pipeline.Options, error) {
	var problems []string
	ok := false
	for _, o := range outputs {
		ok = ok || f.output == o
	}
	if !ok {
		problems = append(problems, fmt.Sprintf("--output must be %s, not %q", strings.Join(outputs, " or "), f.output))
	}
	if f.window <= 0 {
		problems = append(problems, "--window must be positive")
	}
	if f.learningEvents < 0 {
		problems = append(problems, "--learning-events must not be negative")
	}
	if f.learningDays < 0 {
		problems = append(problems, "--learning-days must not be negative")
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		problems = append(problems, fmt.Sprintf("--progress must be auto, always or never, not %q", f.progress))
	}
	opts := pipeline.DefaultOptions()
	opts.Baseline.LearningEvents = f.learningEvents
	opts.Baseline.LearningPeriod = time.Duration(f.learningDays * 24 * float64(time.Hour))
	if len(problems) > 0 {
		return opts, usageError{errors.New(strings.Join(problems, "; "))}
	}
	return opts, nil
}

// showProgress decides whether to draw a progress line on w.
func (f *commonFlags) showProgress(w io.Writer) bool {
	switch f.progress {
	case "always":
		return true
	case "never":
		return false
	}
	file, ok := w.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "trailhound",
		Short: "Catch attackers in CloudTrail logs, attributed to the identity really behind them",
		Long: `Trailhound reads CloudTrail management events, attributes each one to the identity
really behind it (role chains followed back to the user), checks it against that
identity's behavioural baseline and single-event detections, and reports signals and
incidents. This CLI runs the same pipeline as the Lambda functions, on log files, with
an embedded store.

Inputs: files or folders of CloudTrail logs — the S3 export ({"Records": [...]} in
.json or .json.gz, the whole AWSLogs/ tree), JSON arrays of records, JSON lines, or
EventBridge envelopes. Results go to stdout; progress, skips and the summary to stderr.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newReplayCommand(stdout, stderr), newInvestigateCommand(stdout, stderr), newRespondCommand(stdout, stderr))
	return root
}
