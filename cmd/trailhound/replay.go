package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/detection"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/replay"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/boltstore"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

func newReplayCommand(stdout, stderr io.Writer) *cobra.Command {
	var flags commonFlags
	var emit string
	cmd := &cobra.Command{
		Use:   "replay [flags] PATH...",
		Short: "Replay CloudTrail log files through the pipeline and print what it finds",
		Long: `Replay reads CloudTrail log files and folders, processes their events in event-time
order through the same pipeline as the detector and correlator Lambdas, and prints
incidents (by default), signals, or both.

Exit status 0 whatever was found; bad files and records are named on stderr with the
reason and skipped, and a summary says how many records were read and skipped.`,
		Example: `  trailhound replay events/demo
  trailhound replay --emit signals --output jsonl AWSLogs/
  trailhound replay --state th.db day1/ && trailhound replay --state th.db day2/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := flags.pipelineOptions("text", "jsonl")
			switch emit {
			case "incidents", "signals", "all":
			default:
				err = errors.Join(err, usageError{fmt.Errorf("--emit must be incidents, signals or all, not %q", emit)})
			}
			if err != nil {
				return err
			}
			out := newPrinter(stdout, flags.output)
			r := &runner{flags: flags, opts: opts, stderr: stderr}
			r.onSignal = func(s detection.Signal) error {
				if emit == "signals" || emit == "all" {
					return out.signal(s)
				}
				return nil
			}
			if err := r.run(cmd.Context(), args); err != nil {
				return err
			}
			if emit == "incidents" || emit == "all" {
				for _, inc := range r.incidents {
					if err := out.incident(inc); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&emit, "emit", "incidents", "what to print: incidents, signals or all")
	return cmd
}

// runner runs the pipeline over a replay stream, shared by replay and
// investigate.
type runner struct {
	flags    commonFlags
	opts     pipeline.Options
	stderr   io.Writer
	onSignal func(detection.Signal) error
	onEvent  func(*cloudtrail.Event, pipeline.Observation) error

	// incidents are those opened or changed by this run, in their final
	// state, ordered by first seen.
	incidents []incident.Incident
}

func (r *runner) run(ctx context.Context, paths []string) error {
	st, err := openStore(r.flags.state)
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := pipeline.New(st, r.opts, log)
	if err != nil {
		return usageError{err}
	}
	stream, err := replay.Open(paths, replay.Options{
		Window: r.flags.window,
		OnSkip: func(s replay.Skip) { fmt.Fprintln(r.stderr, "skipped:", s) },
	})
	if err != nil {
		return err
	}
	defer stream.Close()

	prog := newProgress(r.stderr, r.flags.showProgress(r.stderr))
	res, err := p.Run(ctx, stream, func(ev *cloudtrail.Event, obs pipeline.Observation) error {
		for _, s := range obs.Signals {
			if r.onSignal != nil {
				if err := r.onSignal(s); err != nil {
					return err
				}
			}
		}
		if r.onEvent != nil {
			if err := r.onEvent(ev, obs); err != nil {
				return err
			}
		}
		prog.tick(stream)
		return nil
	})
	prog.done()
	if err != nil {
		return err
	}
	r.incidents = res.Incidents
	rep := stream.Report()
	fmt.Fprintln(r.stderr, summary(rep, res.Identities, res.Signals, len(r.incidents)))
	if rep.Files == 0 {
		return errors.New("no CloudTrail log files found")
	}
	return nil
}

func openStore(path string) (store.Store, error) {
	if path == "" {
		return memstore.New(), nil
	}
	s, err := boltstore.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}
	return s, nil
}

// summary is the last line on stderr: what was read and skipped, and why.
func summary(r replay.Report, identities, signals, incidents int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "summary: %d files, %d records read, %d events processed", r.Files, r.Records, r.Events)
	skipped := r.SkippedRecords()
	fmt.Fprintf(&b, ", %d skipped", skipped)
	if skipped > 0 {
		reasons := make([]string, 0, len(r.Skipped))
		for reason := range r.Skipped {
			reasons = append(reasons, reason)
		}
		sort.Strings(reasons)
		parts := make([]string, len(reasons))
		for i, reason := range reasons {
			parts[i] = fmt.Sprintf("%s: %d", reason, r.Skipped[reason])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if r.FilesSkipped > 0 {
		fmt.Fprintf(&b, ", %d files unreadable", r.FilesSkipped)
	}
	fmt.Fprintf(&b, ", %d duplicates, %d late", r.Duplicates, r.Late)
	if r.Ignored > 0 {
		fmt.Fprintf(&b, ", %d non-log files ignored", r.Ignored)
	}
	fmt.Fprintf(&b, "; %d identities, %d signals, %d incidents", identities, signals, incidents)
	return b.String()
}

// printer writes results to stdout.
type printer struct {
	w      io.Writer
	format string
	enc    *json.Encoder
}

func newPrinter(w io.Writer, format string) *printer {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &printer{w: w, format: format, enc: enc}
}

func (p *printer) signal(s detection.Signal) error {
	if p.format == "jsonl" {
		return p.enc.Encode(s)
	}
	who := s.Identity.ARN
	if !s.Identity.Resolved {
		who += " (unresolved)"
	}
	_, err := fmt.Fprintf(p.w, "%s  %-8s %-24s %s  %s:%s  %s  %s\n",
		s.Time.UTC().Format(time.RFC3339), s.Severity, s.Kind, who,
		strings.TrimSuffix(s.EventSource, ".amazonaws.com"), s.EventName, s.Region, s.Rationale)
	return err
}

func (p *printer) incident(inc incident.Incident) error {
	if p.format == "jsonl" {
		return p.enc.Encode(inc)
	}
	var b strings.Builder
	who := inc.Identity.Origin
	if inc.Identity.Name != "" && !strings.HasSuffix(who, inc.Identity.Name) {
		who = inc.Identity.Name + " (" + who + ")"
	}
	state := ""
	if !inc.Identity.Resolved {
		state = ", unresolved: the chain could not be followed back to a user"
	}
	fmt.Fprintf(&b, "━━ %s  %s  %s  [%s%s]  %s\n", strings.ToUpper(inc.Severity.String()), inc.Policy, who, inc.Identity.Type, state, inc.ID)
	fmt.Fprintf(&b, "   when      %s → %s\n", inc.FirstSeen.UTC().Format(time.RFC3339), inc.LastSeen.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "   why       %s\n", inc.Summary)
	for i, ch := range inc.Identity.Chains {
		label := "chain"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(&b, "   %-9s %s\n", label, strings.Join(ch, " → "))
	}
	f := inc.Facts
	fmt.Fprintf(&b, "   where     accounts %s · regions %s\n", strings.Join(inc.Identity.Accounts, ", "), strings.Join(f.Regions, ", "))
	fmt.Fprintf(&b, "   from      %s\n", strings.Join(f.SourceIPs, ", "))
	fmt.Fprintf(&b, "   tools     %s\n", strings.Join(truncateAll(f.UserAgents, 90), " | "))
	fmt.Fprintf(&b, "   facts     %d events, %d failed · %d APIs on %s\n", f.Events, f.Errors, len(f.APIs), strings.Join(trimSuffixAll(f.Services, ".amazonaws.com"), ", "))
	fmt.Fprintf(&b, "   attack    %s\n", strings.Join(inc.Attack, ", "))
	fmt.Fprintf(&b, "   signals   %d\n", len(inc.Signals))
	for _, s := range inc.Signals {
		fmt.Fprintf(&b, "     %s  %-8s %-36s %s\n", s.Time.UTC().Format(time.RFC3339), s.Severity, s.Kind, s.Rationale)
	}
	if len(inc.Resources) > 0 {
		fmt.Fprintf(&b, "   resources\n")
		for _, r := range inc.Resources {
			name := r.ARN
			if name == "" {
				name = r.ID
			}
			fmt.Fprintf(&b, "     %-18s %s\n", r.Type, name)
		}
	}
	if len(inc.Actions) > 0 {
		fmt.Fprintf(&b, "   response plan\n")
		for _, a := range inc.Actions {
			fmt.Fprintf(&b, "     %-8s %-24s %s\n", a.Mode, a.Action, a.Target)
			fmt.Fprintf(&b, "              %s\n", a.Reason)
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(p.w, b.String())
	return err
}

func truncateAll(list []string, n int) []string {
	out := make([]string, len(list))
	for i, s := range list {
		if len(s) > n {
			s = s[:n] + "…"
		}
		out[i] = s
	}
	return out
}

func trimSuffixAll(list []string, suffix string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.TrimSuffix(s, suffix)
	}
	return out
}
