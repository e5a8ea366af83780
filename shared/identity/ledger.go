package identity

import (
	"context"
	"time"
)

// MapLedger is a Ledger in a map, for a single process that needs no
// persistence (tests, one-off attribution of a file). It is not safe for
// concurrent use.
type MapLedger map[string]IssuedKey

// Remember records the key until it expires.
func (m MapLedger) Remember(_ context.Context, k IssuedKey) error {
	m[k.AccessKeyID] = k
	return nil
}

// Lookup returns the key's record, or false when it is unknown or expired.
func (m MapLedger) Lookup(_ context.Context, key string, at time.Time) (IssuedKey, bool, error) {
	k, ok := m[key]
	if !ok || !at.Before(k.Expires) {
		return IssuedKey{}, false, nil
	}
	return k, true, nil
}
