//go:build race

package cloudtrail

// raceEnabled reports a -race build, where checkptr turns goccy/go-json's
// out-of-bounds read into a fatal error.
const raceEnabled = true
