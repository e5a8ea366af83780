package response_test

import (
	"strings"
	"testing"

	"github.com/trailhound/trailhound/shared/response"
)

func TestParseConfig(t *testing.T) {
	good := `{"default":"dry-run","accounts":{"111122223333":{"default":"enforce","actions":{"revoke-role-sessions":"off"}}},
		"allow":["arn:aws:iam::*:role/BreakGlass*"],"role_name":"TrailhoundResponse","external_id":"x"}`
	c, err := response.ParseConfig([]byte(good))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	for _, tt := range []struct {
		account, action, want string
		explicit              bool
	}{
		{"111122223333", "revoke-role-sessions", "off", true},
		{"111122223333", "disable-lambda", "enforce", false},
		{"999999999999", "disable-lambda", "dry-run", false},
	} {
		if got, explicit := c.ModeFor(tt.account, tt.action); got != tt.want || explicit != tt.explicit {
			t.Errorf("ModeFor(%s, %s) = %s, %v; want %s, %v", tt.account, tt.action, got, explicit, tt.want, tt.explicit)
		}
	}
	if !c.Allowed("arn:aws:iam::111122223333:role/BreakGlassAdmin") || c.Allowed("arn:aws:iam::111122223333:role/Admin") {
		t.Error("allow-list does not match as an ARN pattern")
	}
	if (response.Config{}).ModeForDefault() != response.ModeDryRun {
		t.Error("empty config is not dry-run")
	}

	for _, tt := range []struct{ name, json, want string }{
		{"unknown mode", `{"default":"yes"}`, `default: unknown mode "yes"`},
		{"malformed account", `{"accounts":{"12345":{}}}`, `accounts: "12345" is not a 12-digit account id`},
		{"unknown action", `{"accounts":{"111122223333":{"actions":{"nuke":"enforce"}}}}`, `unknown action "nuke"`},
		{"role without external id", `{"role_name":"R"}`, "external_id: required"},
		{"unknown field", `{"kill":true}`, `unknown field "kill"`},
		{"allow not an ARN", `{"allow":["BreakGlass"]}`, `allow[0]: "BreakGlass" is not an ARN pattern`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := response.ParseConfig([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseConfig(%s) = %v, want an error containing %q", tt.json, err, tt.want)
			}
		})
	}
}
