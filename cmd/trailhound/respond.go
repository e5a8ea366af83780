package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/response"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/boltstore"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// respondStore is what respond needs of its store: the audit log, and the
// signals the blast radius of a role is counted from.
type respondStore interface {
	store.AuditLog
	response.SignalReader
	Close() error
}

func newRespondCommand(stdout, stderr io.Writer) *cobra.Command {
	var incidentFile, mode, configFile, state, undo, output string
	cmd := &cobra.Command{
		Use:   "respond --incident FILE [--mode dry-run|enforce] [--config FILE] [--state FILE] | --undo AUDIT_ID --state FILE",
		Short: "Run an incident's response plan by hand, with your own credentials, or undo one action",
		Long: `Respond plans the response to one incident (FILE holds one incident record, as
"trailhound replay --output jsonl" prints them; the plan comes from its policy,
identity and resources) and takes each action in the mode given: dry-run (the
default) reads each target and says what it would do; enforce does it. Every
decision is printed and written to the audit log in --state (a bbolt file; without
it the log is kept in memory and lost, so nothing can be undone later).

It acts with the caller's credentials (the SDK's default chain, AWS_PROFILE,
AWS_ENDPOINT_URL), or, when --config names a role_name, through that role in each
member account. --config takes the responder's configuration (the JSON of
TRAILHOUND_RESPONSE_CONFIG): its allow-list, kill switch, rate limit and
per-account modes apply; --mode sets its default mode.

--undo AUDIT_ID reverses one enforced action from its audit record: the key
reactivated, the deny policy removed, the rule and its targets recreated, the
function's concurrency and permissions restored.`,
		Example: `  trailhound replay --output jsonl events/demo | head -n1 > incident.json
  trailhound respond --incident incident.json
  trailhound respond --incident incident.json --mode enforce --state response.db
  trailhound respond --undo aud-0123456789abcdef0123 --state response.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var problems []string
			switch {
			case undo != "" && incidentFile != "":
				problems = append(problems, "--undo and --incident exclude each other")
			case undo != "" && state == "":
				problems = append(problems, "--undo needs the --state file that holds the audit log")
			case undo == "" && incidentFile == "":
				problems = append(problems, "--incident FILE (or --undo AUDIT_ID) is required")
			}
			switch mode {
			case "", response.ModeDryRun, response.ModeEnforce:
			default:
				problems = append(problems, fmt.Sprintf("--mode must be dry-run or enforce, not %q", mode))
			}
			if output != "text" && output != "jsonl" {
				problems = append(problems, fmt.Sprintf("--output must be text or jsonl, not %q", output))
			}
			if len(problems) > 0 {
				return usageError{errors.New(strings.Join(problems, "; "))}
			}
			cfg, err := loadResponseConfig(configFile, mode)
			if err != nil {
				return err
			}
			st, err := openRespondStore(state)
			if err != nil {
				return err
			}
			defer st.Close()
			awsCfg, err := callerConfig(cmd.Context())
			if err != nil {
				return err
			}
			exec, err := response.NewExecutor(cfg, response.NewAccounts(awsCfg, nil, cfg.RoleName, cfg.ExternalID), st, st, nil)
			if err != nil {
				return err
			}
			if undo != "" {
				rec, err := exec.Undo(cmd.Context(), undo, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "undone  %s %s (audit record %s, done %s)\n", rec.Action, rec.Target, rec.ID, rec.Time.Format(time.RFC3339))
				return nil
			}
			inc, err := readIncident(incidentFile)
			if err != nil {
				return err
			}
			if state == "" {
				fmt.Fprintln(stderr, "trailhound: no --state: the audit log is kept in memory only, so these actions cannot be undone with --undo later")
			}
			decisions, err := exec.Respond(cmd.Context(), inc, response.Planner{}.Plan(inc), time.Now())
			failed := 0
			for _, d := range decisions {
				if d.Record.Status == incident.StatusFailed {
					failed++
				}
				if err := printDecision(stdout, output, d); err != nil {
					return err
				}
			}
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d actions failed (see their errors above)", failed, len(decisions))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&incidentFile, "incident", "", "the incident record (JSON) to respond to")
	fl.StringVar(&mode, "mode", "", "dry-run or enforce: the default mode (dry-run unless --config says otherwise)")
	fl.StringVar(&configFile, "config", "", "the response configuration (JSON, as in TRAILHOUND_RESPONSE_CONFIG)")
	fl.StringVar(&state, "state", "", "the bbolt file holding the audit log (and the signals of earlier replays)")
	fl.StringVar(&undo, "undo", "", "undo the enforced action of this audit record")
	fl.StringVar(&output, "output", "text", "text or jsonl (one audit record per line)")
	return cmd
}

// loadResponseConfig reads --config (if any) and applies --mode.
func loadResponseConfig(path, mode string) (response.Config, error) {
	var cfg response.Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		if cfg, err = response.ParseConfig(b); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if mode != "" {
		cfg.Default = mode
	}
	return cfg, cfg.Validate()
}

func openRespondStore(path string) (respondStore, error) {
	if path == "" {
		return memstore.New(), nil
	}
	return boltstore.Open(path)
}

// callerConfig is the caller's own AWS configuration: the default chain,
// and AWS_ENDPOINT_URL when set.
func callerConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// readIncident reads one incident record, as replay --output jsonl (or
// the bus's detail) has it.
func readIncident(path string) (*incident.Incident, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var inc incident.Incident
	if err := json.Unmarshal(b, &inc); err != nil {
		return nil, fmt.Errorf("%s: not an incident record: %w", path, err)
	}
	if inc.ID == "" {
		return nil, fmt.Errorf("%s: not an incident record: no id", path)
	}
	return &inc, nil
}

func printDecision(w io.Writer, output string, d response.Decision) error {
	r := d.Record
	if output == "jsonl" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	where := r.Account
	if r.Region != "" {
		where += " " + r.Region
	}
	earlier := ""
	if !d.New {
		earlier = " (decided earlier, at " + r.Time.Format(time.RFC3339) + ")"
	}
	_, err := fmt.Fprintf(w, "%-8s %-8s %s %s [%s] audit %s%s\n         %s\n", r.Status, r.Mode, r.Action, r.Target, where, r.ID, earlier, r.Reason)
	if err == nil && r.Error != "" {
		_, err = fmt.Fprintf(w, "         error: %s\n", r.Error)
	}
	return err
}
