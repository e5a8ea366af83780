package identity

import "strings"

// RoleARNFromSession turns an assumed-role session ARN
// ("arn:aws:sts::111122223333:assumed-role/Role/session") into the role's
// ARN ("arn:aws:iam::111122223333:role/Role"). Role paths are not part of
// session ARNs, so the role ARN is given without its path, except for
// Identity Center's roles, whose path is fixed. It returns "" for anything
// else.
func RoleARNFromSession(session string) string {
	partition, account, resource, ok := splitARN(session)
	if !ok || !strings.HasPrefix(resource, "assumed-role/") {
		return ""
	}
	rest := resource[len("assumed-role/"):]
	role, _, _ := strings.Cut(rest, "/")
	if role == "" {
		return ""
	}
	if strings.HasPrefix(role, "AWSReservedSSO_") {
		// Identity Center creates its roles under this path.
		return "arn:" + partition + ":iam::" + account + ":role/aws-reserved/sso.amazonaws.com/" + role
	}
	return "arn:" + partition + ":iam::" + account + ":role/" + role
}

// SessionName returns the session name of an assumed-role session ARN, or "".
func SessionName(session string) string {
	_, _, resource, ok := splitARN(session)
	if !ok || !strings.HasPrefix(resource, "assumed-role/") {
		return ""
	}
	_, name, _ := strings.Cut(resource[len("assumed-role/"):], "/")
	return name
}

// RoleName returns the name of a role ARN or session ARN, without path.
func RoleName(arn string) string {
	_, _, resource, ok := splitARN(arn)
	if !ok {
		return ""
	}
	switch {
	case strings.HasPrefix(resource, "assumed-role/"):
		name, _, _ := strings.Cut(resource[len("assumed-role/"):], "/")
		return name
	case strings.HasPrefix(resource, "role/"):
		r := resource[len("role/"):]
		return r[strings.LastIndexByte(r, '/')+1:]
	}
	return ""
}

// AccountOf returns the account id field of an ARN, or "".
func AccountOf(arn string) string {
	_, account, _, _ := splitARN(arn)
	return account
}

// splitARN splits "arn:partition:service:region:account:resource" without
// allocating: it runs for every event signed by a role session.
func splitARN(arn string) (partition, account, resource string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	for i := 0; ok && i < 4; i++ {
		var field string
		field, rest, ok = strings.Cut(rest, ":")
		switch i {
		case 0:
			partition = field
		case 3:
			account = field
		}
	}
	if !ok {
		return "", "", "", false
	}
	return partition, account, rest, true
}
