package baseline

import "strings"

// products are user-agent product tokens that name the tool better than the
// first token does (SDKs wrapped by tools name the tool further in).
var products = []string{
	"Terraform", "Pulumi", "aws-cdk", "cloudformation", "stratus-red-team",
	"aws-cli", "Boto3", "botocore", "aws-sdk-go-v2", "aws-sdk-go", "aws-sdk-java",
	"aws-sdk-js", "aws-sdk-nodejs", "aws-sdk-dotnet", "aws-sdk-ruby", "aws-sdk-php",
	"aws-sdk-rust", "aws-powershell", "AWSPowerShell", "Steampipe", "ScoutSuite", "Prowler",
	"pacu", "cloudsplaining", "aws-internal",
}

// osFamilies are operating-system hints worth keeping apart: the same CLI
// from a Mac and from a Linux server are different habits.
var osFamilies = []struct{ needle, name string }{
	{"kali", "kali"}, {"parrot", "parrot"}, {"pentoo", "pentoo"},
	{"darwin", "macos"}, {"windows", "windows"}, {"linux", "linux"},
}

// UserAgentFamily reduces a user agent to the tool and its major version,
// plus the operating system when it says one: "aws-cli/2 macos",
// "Terraform/1", "console", "stratus-red-team". Versions change every week;
// tools and machines are habits. Empty user agents give "".
func UserAgentFamily(ua string) string {
	ua = strings.TrimSpace(strings.Trim(ua, "[]"))
	if ua == "" {
		return ""
	}
	lower := strings.ToLower(ua)
	switch {
	case strings.HasPrefix(lower, "console.") || strings.Contains(lower, "console.amazonaws.com") || lower == "signin.amazonaws.com":
		return "console"
	case strings.HasPrefix(lower, "mozilla/"):
		return "browser"
	case lower == "aws internal" || strings.HasSuffix(lower, ".amazonaws.com"):
		return lower
	}
	family := ""
	for _, p := range products {
		i := strings.Index(lower, strings.ToLower(p))
		if i < 0 {
			continue
		}
		family = p + major(ua[i+len(p):])
		break
	}
	if family == "" {
		tok, _, _ := strings.Cut(ua, " ")
		name, rest, _ := strings.Cut(tok, "/")
		if len(name) > 40 {
			name = name[:40]
		}
		family = name + major("/"+rest)
	}
	for _, o := range osFamilies {
		if strings.Contains(lower, o.needle) {
			return family + " " + o.name
		}
	}
	return family
}

// major returns "/N" from a suffix starting "/N.…", or "".
func major(s string) string {
	if len(s) < 2 || s[0] != '/' {
		return ""
	}
	end := 1
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 1 {
		return ""
	}
	return s[:end]
}
