package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trailhound/trailhound/shared/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaultsAndValues(t *testing.T) {
	s, err := config.Load(env(map[string]string{
		config.EnvTable: "trailhound", config.EnvBus: "trailhound-bus", config.EnvLearningDays: "7",
		config.EnvIncidentQuiet: "12h", config.EnvLogLevel: "debug",
	}), config.Need{Table: true, Bus: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Table != "trailhound" || s.Bus != "trailhound-bus" || s.Pipeline.Baseline.LearningPeriod != 7*24*time.Hour ||
		s.Pipeline.Correlator.Quiet != 12*time.Hour || s.LogLevel != slog.LevelDebug || s.Pipeline.Baseline.LearningEvents != 100 {
		t.Errorf("settings %+v", s)
	}
	if s.Pipeline.IssuerWait != config.DefaultIssuerWait || s.Pipeline.Clock == nil {
		t.Errorf("issuer wait %v (clock set: %v), want %v", s.Pipeline.IssuerWait, s.Pipeline.Clock != nil, config.DefaultIssuerWait)
	}
	s, err = config.Load(env(map[string]string{config.EnvIssuerWait: "0s"}), config.Need{})
	if err != nil || s.Pipeline.IssuerWait != 0 {
		t.Errorf("%s=0s: wait %v, err %v; want waiting off", config.EnvIssuerWait, s.Pipeline.IssuerWait, err)
	}
}

func TestLoadReportsEveryProblemByName(t *testing.T) {
	_, err := config.Load(env(map[string]string{
		config.EnvLearningEvents: "-3", config.EnvLearningDays: "soon", config.EnvSignalTTLDays: "0",
		config.EnvIncidentQuiet: "forever", config.EnvLogLevel: "loud", config.EnvIssuerWait: "5m",
	}), config.Need{Table: true, Bus: true})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{config.EnvTable, config.EnvBus, config.EnvLearningEvents, config.EnvLearningDays,
		config.EnvSignalTTLDays, config.EnvIncidentQuiet, config.EnvLogLevel, config.EnvIssuerWait} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
