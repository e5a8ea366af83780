package detection_test

import (
	"strings"
	"testing"

	"github.com/trailhound/trailhound/shared/detection"
)

// TestCriticalRulesIgnoreInfrastructureAsCode: a Terraform teardown must
// never look critical, so every critical rule skips infrastructure-as-code
// user agents (CloudFormation is lowered by the engine itself).
func TestCriticalRulesIgnoreInfrastructureAsCode(t *testing.T) {
	for _, r := range detection.Rules() {
		if r.Severity < detection.Critical {
			continue
		}
		skips := false
		for _, c := range r.Where {
			if c.Field == "userAgent" && c.Op == detection.Matches && c.Not && strings.Contains(c.Values[0], "terraform") {
				skips = true
			}
		}
		if !skips {
			t.Errorf("critical rule %s does not skip infrastructure-as-code", r.ID)
		}
	}
}

// TestRulesAreDocumented: every rule names its ATT&CK techniques, tags
// and rationale, and the Stratus techniques it lists exist.
func TestRulesAreDocumented(t *testing.T) {
	for _, r := range detection.Rules() {
		for _, s := range r.Stratus {
			if !stratusIDs[s] {
				t.Errorf("rule %s lists unknown Stratus technique %q", r.ID, s)
			}
		}
	}
}

// stratusIDs are the AWS techniques of Stratus Red Team the catalogue may
// name (the 35 of the detonation logs and those of the Invictus run).
var stratusIDs = map[string]bool{
	"aws.credential-access.ec2-get-password-data":                 true,
	"aws.credential-access.ec2-steal-instance-credentials":        true,
	"aws.credential-access.secretsmanager-batch-retrieve-secrets": true,
	"aws.credential-access.secretsmanager-retrieve-secrets":       true,
	"aws.credential-access.ssm-retrieve-securestring-parameters":  true,
	"aws.defense-evasion.cloudtrail-delete":                       true,
	"aws.defense-evasion.cloudtrail-event-selectors":              true,
	"aws.defense-evasion.cloudtrail-lifecycle-rule":               true,
	"aws.defense-evasion.cloudtrail-stop":                         true,
	"aws.defense-evasion.dns-delete-logs":                         true,
	"aws.defense-evasion.organizations-leave":                     true,
	"aws.defense-evasion.vpc-remove-flow-logs":                    true,
	"aws.discovery.ec2-download-user-data":                        true,
	"aws.discovery.ec2-enumerate-from-instance":                   true,
	"aws.execution.ec2-launch-unusual-instances":                  true,
	"aws.execution.ec2-user-data":                                 true,
	"aws.execution.ssm-send-command":                              true,
	"aws.execution.ssm-start-session":                             true,
	"aws.exfiltration.ec2-security-group-open-port-22-ingress":    true,
	"aws.exfiltration.ec2-share-ami":                              true,
	"aws.exfiltration.ec2-share-ebs-snapshot":                     true,
	"aws.exfiltration.rds-share-snapshot":                         true,
	"aws.exfiltration.s3-backdoor-bucket-policy":                  true,
	"aws.impact.bedrock-invoke-model":                             true,
	"aws.initial-access.console-login-without-mfa":                true,
	"aws.lateral-movement.ec2-instance-connect":                   true,
	"aws.lateral-movement.ec2-serial-console-send-ssh-public-key": true,
	"aws.persistence.iam-backdoor-role":                           true,
	"aws.persistence.iam-backdoor-user":                           true,
	"aws.persistence.iam-create-admin-user":                       true,
	"aws.persistence.iam-create-backdoor-role":                    true,
	"aws.persistence.iam-create-user-login-profile":               true,
	"aws.persistence.lambda-backdoor-function":                    true,
	"aws.persistence.lambda-layer-extension":                      true,
	"aws.persistence.lambda-overwrite-code":                       true,
	"aws.persistence.rolesanywhere-create-trust-anchor":           true,
	"aws.persistence.sts-federation-token":                        true,
	"aws.privilege-escalation.iam-update-user-login-profile":      true,
}
