package response

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// notFoundCodes are the error codes with which IAM, EventBridge and Lambda
// say a resource does not exist.
var notFoundCodes = map[string]bool{
	"NoSuchEntity":              true,
	"NoSuchEntityException":     true,
	"ResourceNotFoundException": true,
}

// isNotFound reports whether an AWS error says the resource does not
// exist: the one place SDK errors are classified for the actions.
func isNotFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && notFoundCodes[api.ErrorCode()]
}

// ownPrefix starts the names of Trailhound's own resources (its roles,
// rules and functions, as the CDK app names them: trailhound-responder,
// trailhound-forward-…): they are never acted on, whatever the incident
// says. It is matched without regard to case.
const ownPrefix = "trailhound"

// isOwn reports whether a resource name is Trailhound's own.
func isOwn(name string) bool {
	return len(name) >= len(ownPrefix) && strings.EqualFold(name[:len(ownPrefix)], ownPrefix)
}

// lastSegment returns what follows the last '/' (or ':' when sep is ':').
func lastSegment(s string, sep byte) string {
	return s[strings.LastIndexByte(s, sep)+1:]
}
