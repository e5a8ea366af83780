// Package config reads the Lambda functions' settings from environment
// variables, once, at cold start: every setting's name, default and
// validation is here, and every problem is reported at once, naming its
// variable. The CDK app sets the same names.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/trailhound/trailhound/shared/pipeline"
)

// Environment variable names.
const (
	EnvTable          = "TRAILHOUND_TABLE"
	EnvBus            = "TRAILHOUND_BUS"
	EnvLearningEvents = "TRAILHOUND_LEARNING_EVENTS"
	EnvLearningDays   = "TRAILHOUND_LEARNING_DAYS"
	EnvSignalTTLDays  = "TRAILHOUND_SIGNAL_TTL_DAYS"
	EnvIncidentQuiet  = "TRAILHOUND_INCIDENT_QUIET"
	EnvLateness       = "TRAILHOUND_CORRELATOR_LATENESS"
	EnvLogLevel       = "TRAILHOUND_LOG_LEVEL"
	// EnvIssuerWait is how long the detector waits, by having Lambda
	// retry the event, for the event that issued a fresh session's
	// credentials (pipeline.Options.IssuerWait); 0 turns waiting off.
	EnvIssuerWait = "TRAILHOUND_ISSUER_WAIT"
	// EnvCorrelatorFunction names the correlator function the detector
	// wakes on critical signals; unset, critical signals wait for the
	// schedule.
	EnvCorrelatorFunction = "TRAILHOUND_CORRELATOR_FUNCTION"
)

// Settings are the functions' configuration.
type Settings struct {
	// Table is the DynamoDB table.
	Table string
	// Bus is the Trailhound event bus incidents are published on.
	Bus string
	// Pipeline holds the detection settings.
	Pipeline pipeline.Options
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// CorrelatorFunction is the function the detector wakes on critical
	// signals ("" for none).
	CorrelatorFunction string
}

// lambdaRetrySpan is when Lambda makes its last retry of an asynchronous
// invocation: after one minute, then two more.
const lambdaRetrySpan = 3 * time.Minute

// DefaultIssuerWait is the detector's wait for the events that issue
// sessions' credentials: shorter than lambdaRetrySpan, so that an event
// still waiting on its last attempt is attributed as it is rather than
// dead-lettered. A configured wait must end before it too.
const DefaultIssuerWait = lambdaRetrySpan - time.Minute

// Need says which settings a function requires.
type Need struct {
	Table, Bus bool
}

// Load reads the settings from getenv (os.Getenv in production), with
// defaults, and returns every problem at once.
func Load(getenv func(string) string, need Need) (Settings, error) {
	s := Settings{Pipeline: pipeline.DefaultOptions(), LogLevel: slog.LevelInfo}
	// Events arrive as they happen, in any order: wait for issuers.
	s.Pipeline.IssuerWait, s.Pipeline.Clock = DefaultIssuerWait, time.Now
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}
	s.Table = strings.TrimSpace(getenv(EnvTable))
	if need.Table && s.Table == "" {
		bad(EnvTable, "required (the DynamoDB table name)")
	}
	s.Bus = strings.TrimSpace(getenv(EnvBus))
	if need.Bus && s.Bus == "" {
		bad(EnvBus, "required (the Trailhound event bus name or ARN)")
	}
	s.CorrelatorFunction = strings.TrimSpace(getenv(EnvCorrelatorFunction))
	if v := getenv(EnvLearningEvents); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad(EnvLearningEvents, "%q is not a whole number of events, 0 or more", v)
		} else {
			s.Pipeline.Baseline.LearningEvents = n
		}
	}
	if v := getenv(EnvLearningDays); v != "" {
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || d < 0 || d > 365 {
			bad(EnvLearningDays, "%q is not a number of days between 0 and 365", v)
		} else {
			s.Pipeline.Baseline.LearningPeriod = time.Duration(d * 24 * float64(time.Hour))
		}
	}
	if v := getenv(EnvSignalTTLDays); v != "" {
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || d < 1 || d > 400 {
			bad(EnvSignalTTLDays, "%q is not a number of days between 1 and 400", v)
		} else {
			s.Pipeline.SignalTTL = time.Duration(d * 24 * float64(time.Hour))
		}
	}
	duration := func(name string, min, max time.Duration, into *time.Duration) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < min || d > max {
			bad(name, "%q is not a duration between %s and %s (e.g. 24h, 15m)", v, min, max)
			return
		}
		*into = d
	}
	duration(EnvIncidentQuiet, time.Hour, 30*24*time.Hour, &s.Pipeline.Correlator.Quiet)
	duration(EnvLateness, 0, 24*time.Hour, &s.Pipeline.Correlator.Lateness)
	// Lambda retries a failed asynchronous invocation twice, one and then
	// two minutes apart: a wait longer than the first retry's delay plus
	// the second's would send waiting events to the dead-letter queue.
	duration(EnvIssuerWait, 0, lambdaRetrySpan-time.Second, &s.Pipeline.IssuerWait)
	if v := getenv(EnvLogLevel); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad(EnvLogLevel, "%q is not debug, info, warn or error", v)
		}
	}
	if len(problems) > 0 {
		return s, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return s, nil
}
