package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/trailhound/trailhound/shared/cloudtrail"
)

// Ledger remembers which origin temporary credentials belong to. The
// pipeline passes its store; tests pass a map.
type Ledger interface {
	// Remember records an issued key until k.Expires.
	Remember(ctx context.Context, k IssuedKey) error
	// Lookup returns the key's record and true, or false when it is unknown
	// or expired at the given time.
	Lookup(ctx context.Context, accessKeyID string, at time.Time) (IssuedKey, bool, error)
}

// Attribution is the identity answer for one event.
type Attribution struct {
	// Origin is who is behind the call.
	Origin Origin
	// Session is the ARN of the principal that signed the call (the last
	// hop of the chain).
	Session string
	// ByService is true when an AWS service acted on its own (not on a
	// principal's behalf): such calls are attributed to the service and are
	// not attackers.
	ByService bool
	// InvokedBy names the AWS service that made the call on the principal's
	// behalf (CloudFormation, for instance), or is empty.
	InvokedBy string
	// Issued is set when the event issued temporary credentials.
	Issued *IssuedKey
	// keyed is Origin's key and the fields it was worked out from (Key).
	keyed keyed
}

// keyed is an origin key and what of the origin it derives from.
type keyed struct {
	key, arn, typ, source string
}

// Key returns at.Origin.Key(), the key of the origin's baseline, signals
// and incidents. Every stage of the pipeline asks for it, and a role
// session's is a string to build, so Attribute works it out once per event;
// for an Attribution made otherwise, or whose origin was changed since, Key
// works it out again.
func (at *Attribution) Key() string {
	o := &at.Origin
	if k := &at.keyed; k.key != "" && k.arn == o.ARN && k.typ == o.Type && k.source == o.SourceIdentity {
		return k.key
	}
	return o.Key()
}

// defaultKeyLifetime bounds a key's ledger entry when the STS response does
// not say when it expires: 36 hours is the longest any STS credential lives
// (GetSessionToken).
const defaultKeyLifetime = 36 * time.Hour

// servicePrefix names a service session's ledger entry. AWS services
// assume the roles of the resources they run (a function's execution role,
// an instance profile, Config's role) many times a day, and every key they
// are issued belongs to the same machine identity, the session they name.
// So the ledger keeps one entry per such session, not one per key: an event
// signed with a key the ledger does not know, by a session a service
// started, belongs to that machine identity. The entry outlives the
// credentials it was written for by serviceRefresh and is rewritten only
// when newer credentials would outlive it, so a function's cold starts cost
// at most one write per session every serviceRefresh.
//
// The entry trusts the session name: a principal allowed to assume a
// service's role could name its session after the resource and, if its own
// AssumeRole is never seen, be taken for the machine (never for a person).
// Execution roles and instance profiles normally trust only their service.
const (
	servicePrefix  = "svc:"
	serviceRefresh = 24 * time.Hour
)

// unresolvedRecheck is how long after it was issued a key recorded with an
// unresolved origin is looked up in the ledger again rather than taken from
// the cache: the window in which concurrent detectors may still be
// recording the resolved copy of its issuing event.
const (
	unresolvedRecheck = 5 * time.Minute
	recheckEvery      = time.Minute
)

// Attributor attributes events to origin identities, using and feeding a
// Ledger of issued keys. It keeps a bounded cache of ledger hits (issued
// keys never change, so a hit stays true until it expires).
type Attributor struct {
	ledger Ledger
	cache  map[string]*cachedKey
	// roles memoises the role ARNs of sessions (Key), chains the
	// one-hop chains of the origins that sign their calls themselves:
	// both recur from event to event.
	roles  map[string]string
	chains map[string][]string
	// CacheSize bounds the ledger cache; 0 means 10,000 entries.
	CacheSize int
	// Hold, when set, is asked about every event once it is attributed
	// and before anything it issued is recorded: true makes Attribute
	// return ErrHeld and record nothing (the pipeline holds events whose
	// issuer may be on its way, IssuerPending). A key issued by a held
	// event and recorded anyway would be found, unresolved, by the next
	// event signed with it, and cached.
	Hold func(ev *cloudtrail.Event, at Attribution) bool
}

// ErrHeld is returned by Attribute for an event Hold held.
var ErrHeld = errors.New("the event that issued its credentials is not yet recorded")

// NewAttributor returns an Attributor over the ledger.
func NewAttributor(l Ledger) *Attributor {
	return &Attributor{ledger: l, cache: make(map[string]*cachedKey),
		roles: make(map[string]string), chains: make(map[string][]string)}
}

// cachedKey is a cached ledger record and when it was last read again
// (recheck). The events signed with a key are signed by the one session it
// was issued for: chain is the record's chain extended with that session
// (sessionChain), built once for all of them.
type cachedKey struct {
	IssuedKey
	rechecked time.Time
	session   string
	chain     []string
}

// memoSize bounds the attributor's memos; a full memo is cleared.
const memoSize = 20000

// chain returns the one-hop chain [arn], shared by every event of the
// origin: chains are never changed in place (a longer chain is a new
// slice), so one slice serves them all.
func (a *Attributor) chain(arn string) []string {
	c, ok := a.chains[arn]
	if !ok {
		if len(a.chains) >= memoSize {
			clear(a.chains)
		}
		c = []string{arn}
		a.chains[arn] = c
	}
	return c
}

// roleOf returns RoleARNFromSession(session), memoised: Attribute works
// out every event's origin key with it (Origin.keyWith).
func (a *Attributor) roleOf(session string) string {
	role, ok := a.roles[session]
	if !ok {
		if len(a.roles) >= memoSize {
			clear(a.roles)
		}
		role = RoleARNFromSession(session)
		a.roles[session] = role
	}
	return role
}

// sessionChain returns chain, the chain of the key's record c (nil when
// the record is not cached), extended with the session that signed the
// event.
func sessionChain(c *cachedKey, chain []string, session string) []string {
	if c != nil && c.chain != nil && c.session == session {
		return c.chain
	}
	ext := withHop(chain, session)
	if c != nil {
		c.session, c.chain = session, ext
	}
	return ext
}

// Attribute returns the origin identity of ev. When ev issued temporary
// credentials, it also records them in the ledger (and returns them in
// Attribution.Issued). The errors are the ledger's, and ErrHeld.
func (a *Attributor) Attribute(ctx context.Context, ev *cloudtrail.Event) (Attribution, error) {
	at, err := a.attribute(ctx, ev)
	if err != nil {
		return at, err
	}
	if a.Hold != nil && a.Hold(ev, at) {
		return at, ErrHeld
	}
	if k, ok := issuedKey(ev, at); ok {
		if at, err = a.issued(ctx, ev, at, k); err != nil {
			return at, err
		}
	}
	o := &at.Origin
	at.keyed = keyed{key: o.keyWith(a.roleOf), arn: o.ARN, typ: o.Type, source: o.SourceIdentity}
	return at, nil
}

// issued records the credentials ev issued and returns the attribution
// with them. It is a function of its own because Attribution.Issued points
// to k: k then lives on the heap, and in Attribute it was allocated for
// every event (a third of the attributor's bytes), issuing or not.
func (a *Attributor) issued(ctx context.Context, ev *cloudtrail.Event, at Attribution, k IssuedKey) (Attribution, error) {
	if at.ByService && k.Origin.Resolved && k.Origin.Type == TypeAssumedRole && len(k.Origin.Chain) == 1 {
		if err := a.rememberService(ctx, k); err != nil {
			return at, err
		}
		at.Issued = &k
		return at, nil
	}
	if k.Origin.Type == TypeIdentityCenterUser && at.Origin.Type == TypeSAMLUser {
		// Identity Center signing its user in: the sign-in is the
		// user's too.
		at.Origin = k.Origin
		at.Origin.Chain = k.Origin.Chain[:1]
	}
	// A cross-account AssumeRole is delivered to both accounts with
	// the same key; the target account sees the caller only as
	// another account. Never let that unresolved copy replace what the
	// caller's account told us.
	prev, _, seen, err := a.lookup(ctx, k.AccessKeyID, ev.EventTime)
	if err != nil {
		return at, err
	}
	if !seen || k.Replaces(prev) {
		if err := a.ledger.Remember(ctx, k); err != nil {
			return at, fmt.Errorf("remember issued key: %w", err)
		}
		a.remember(k)
	} else {
		k = prev
	}
	at.Issued = &k
	return at, nil
}

func (a *Attributor) attribute(ctx context.Context, ev *cloudtrail.Event) (Attribution, error) {
	ui := &ev.UserIdentity
	account := ui.AccountID
	if account == "" {
		account = ev.RecipientAccountID
	}
	at := Attribution{Session: ui.ARN}
	if ui.InvokedBy != "" && ui.Type != TypeAWSService && ui.Type != "" {
		at.InvokedBy = ui.InvokedBy
	}

	switch ui.Type {
	case TypeRoot:
		arn := ui.ARN
		if arn == "" {
			arn = "arn:aws:iam::" + account + ":root"
		}
		at.Session = arn
		at.Origin = Origin{ARN: arn, Type: TypeRoot, Name: "root", Account: account, Chain: a.chain(arn), Resolved: true}

	case TypeIAMUser:
		arn := ui.ARN
		if arn == "" && ui.UserName != "" && account != "" {
			arn = "arn:aws:iam::" + account + ":user/" + ui.UserName
		}
		if arn == "" {
			arn = "arn:aws:iam::" + account + ":user/" + ui.PrincipalID
		}
		at.Session = arn
		name := ui.UserName
		if name == "" {
			name = arn[strings.LastIndexByte(arn, '/')+1:]
		}
		at.Origin = Origin{ARN: arn, Type: TypeIAMUser, Name: name, Account: account, Chain: a.chain(arn), Resolved: true}

	case TypeAssumedRole, TypeFederatedUser:
		if k, c, ok, err := a.lookup(ctx, ui.AccessKeyID, ev.EventTime); err != nil {
			return at, err
		} else if ok {
			at.Origin = k.Origin
			if at.Session != "" && (len(at.Origin.Chain) == 0 || at.Origin.Chain[len(at.Origin.Chain)-1] != at.Session) {
				at.Origin.Chain = sessionChain(c, at.Origin.Chain, at.Session)
			}
			return at, nil
		}
		if ui.Type == TypeAssumedRole && strings.HasPrefix(ui.AccessKeyID, "ASIA") && ui.ARN != "" {
			if k, _, ok, err := a.lookup(ctx, servicePrefix+ui.ARN, ev.EventTime); err != nil {
				return at, err
			} else if ok {
				// The key itself is now known, in this process: its
				// next events cost no lookup.
				a.remember(IssuedKey{AccessKeyID: ui.AccessKeyID, Origin: k.Origin, Expires: k.Expires, IssuedBy: k.IssuedBy})
				at.Origin = k.Origin
				return at, nil
			}
		}
		if ui.Type == TypeFederatedUser {
			at.Origin = federatedOrigin(ui, account)
		} else {
			at.Origin = sessionOrigin(ui.ARN, sessionIssuerARN(ui), account, sourceIdentity(ui))
		}

	case TypeSAMLUser:
		arn := samlUserARN(account, ui.PrincipalID, ui.UserName)
		at.Session = arn
		at.Origin = Origin{ARN: arn, Type: TypeSAMLUser, Name: ui.UserName, Account: account, Chain: a.chain(arn), Resolved: true}

	case TypeWebIdentityUser:
		arn := webIdentityARN(account, ui.IdentityProvider, ui.UserName)
		at.Session = arn
		at.Origin = Origin{ARN: arn, Type: TypeWebIdentityUser, Name: ui.UserName, Account: account, Chain: a.chain(arn), Resolved: true}

	case TypeIdentityCenterUser:
		arn := identityCenterUserARN(ui)
		at.Session = arn
		name := ""
		if ui.OnBehalfOf != nil {
			name = ui.OnBehalfOf.UserID
		}
		at.Origin = Origin{ARN: arn, Type: TypeIdentityCenterUser, Name: name, Account: account, Chain: a.chain(arn), Resolved: true}

	case TypeAWSService:
		svc := ui.InvokedBy
		if svc == "" {
			svc = "unknown.amazonaws.com"
		}
		at.ByService = true
		at.Session = svc
		at.Origin = Origin{ARN: svc, Type: TypeAWSService, Name: svc, Chain: a.chain(svc), Resolved: true}

	case TypeAWSAccount:
		// A principal of another account, named only by its account.
		arn := "arn:aws:iam::" + ui.AccountID + ":root"
		at.Session = arn
		at.Origin = Origin{ARN: arn, Type: TypeAWSAccount, Name: ui.PrincipalID, Account: ui.AccountID, Chain: a.chain(arn), Resolved: false}

	default:
		if ui.InvokedBy != "" || ui.Type == "" && ev.EventType == "AwsServiceEvent" {
			svc := ui.InvokedBy
			if svc == "" {
				svc = "AWS Internal"
			}
			at.ByService = true
			at.Session = svc
			at.Origin = Origin{ARN: svc, Type: TypeAWSService, Name: svc, Chain: a.chain(svc), Resolved: true}
			break
		}
		id := ui.ARN
		if id == "" {
			id = ui.PrincipalID
		}
		if id == "" {
			id = "unknown"
		}
		at.Session = id
		at.Origin = Origin{ARN: id, Type: TypeUnknown, Name: ui.UserName, Account: account, Chain: a.chain(id), Resolved: false}
	}
	return at, nil
}

// lookup consults the cache, then the ledger, for temporary keys only. It
// returns the cache entry the record is (nil when it is not the cached
// one).
func (a *Attributor) lookup(ctx context.Context, key string, at time.Time) (IssuedKey, *cachedKey, bool, error) {
	if !strings.HasPrefix(key, "ASIA") && !strings.HasPrefix(key, servicePrefix) {
		return IssuedKey{}, nil, false, nil
	}
	c, ok := a.cache[key]
	if ok && !at.Before(c.Expires) {
		delete(a.cache, key)
		ok = false
	}
	if ok && !a.recheck(c, at) {
		return c.IssuedKey, c, true, nil
	}
	k, found, err := a.ledger.Lookup(ctx, key, at)
	if err != nil {
		return IssuedKey{}, nil, false, fmt.Errorf("look up key %s: %w", Redact(key), err)
	}
	if found && (!ok || k.Origin.Resolved) {
		a.remember(k)
	}
	if !found && ok {
		return c.IssuedKey, c, true, nil
	}
	return k, nil, found, nil
}

// recheck reports whether a cached record is to be read from the ledger
// again: the target account's copy of a cross-account AssumeRole (the
// caller seen only as an account) may yet be replaced by the caller's
// account's copy, which another detector may be recording. It is read again
// at most every recheckEvery of event time, for unresolvedRecheck after the
// key was issued: each read is a GetItem, and a vendor's cross-account
// sessions are never resolved.
func (a *Attributor) recheck(c *cachedKey, at time.Time) bool {
	if c.Origin.Resolved || c.Origin.Type != TypeAWSAccount || at.Sub(c.Issued) >= unresolvedRecheck {
		return false
	}
	if !c.rechecked.IsZero() && at.Sub(c.rechecked) < recheckEvery {
		return false
	}
	c.rechecked = at
	return true
}

// rememberService records the session a service was issued credentials
// for, until serviceRefresh after they expire, unless the ledger already
// knows it until they expire.
func (a *Attributor) rememberService(ctx context.Context, k IssuedKey) error {
	a.remember(k) // this process knows the key itself
	sk := k
	sk.AccessKeyID = servicePrefix + k.Origin.ARN
	sk.Expires = k.Expires.Add(serviceRefresh)
	// Known until at least the new credentials expire: nothing to write.
	if _, _, known, err := a.lookup(ctx, sk.AccessKeyID, k.Expires); err != nil || known {
		return err
	}
	if err := a.ledger.Remember(ctx, sk); err != nil {
		return fmt.Errorf("remember service session: %w", err)
	}
	a.remember(sk)
	return nil
}

func (a *Attributor) remember(k IssuedKey) {
	limit := a.CacheSize
	if limit <= 0 {
		limit = 10000
	}
	if len(a.cache) >= limit {
		// Drop the half that expires first; the ledger still has them.
		// Which half is not left to map order: a cached record can be
		// better than the ledger's (the issuing event seen here), and a
		// replay should attribute the same way every time.
		type entry struct {
			expires time.Time
			key     string
		}
		entries := make([]entry, 0, len(a.cache))
		for key, c := range a.cache {
			entries = append(entries, entry{c.Expires, key})
		}
		slices.SortFunc(entries, func(x, y entry) int {
			if c := x.expires.Compare(y.expires); c != 0 {
				return c
			}
			return strings.Compare(x.key, y.key)
		})
		for _, e := range entries[:len(entries)-limit/2] {
			delete(a.cache, e.key)
		}
	}
	a.cache[k.AccessKeyID] = &cachedKey{IssuedKey: k}
}

// Redact shortens an access key id for logs: "ASIA…WXYZ".
func Redact(key string) string {
	if len(key) <= 8 {
		return key
	}
	return key[:4] + "…" + key[len(key)-4:]
}

// sessionOrigin is the origin of a role session whose issuing event is
// unknown: an Identity Center user when the role is an Identity Center
// permission-set role (its session is named after the user by Identity
// Center itself), otherwise the session itself, unresolved.
func sessionOrigin(session, issuer, account, source string) Origin {
	role := RoleName(session)
	if role == "" {
		role = RoleName(issuer)
	}
	if strings.HasPrefix(role, "AWSReservedSSO_") {
		if user := SessionName(session); user != "" {
			arn := IdentityCenterUserARN(user)
			return Origin{ARN: arn, Type: TypeIdentityCenterUser, Name: user, Account: account,
				Chain: []string{arn, session}, Resolved: true, SourceIdentity: source}
		}
	}
	name := role
	if source != "" {
		name = source
	}
	if session == "" {
		session = issuer
	}
	if session == "" {
		session = "arn:aws:sts::" + account + ":assumed-role/unknown/unknown"
	}
	return Origin{ARN: session, Type: TypeAssumedRole, Name: name, Account: account,
		Chain: []string{session}, Resolved: false, SourceIdentity: source}
}

// federatedOrigin attributes a GetFederationToken session to the IAM user
// (or root) that requested it: the session issuer names it.
func federatedOrigin(ui *cloudtrail.UserIdentity, account string) Origin {
	if ui.SessionContext != nil {
		is := ui.SessionContext.SessionIssuer
		switch is.Type {
		case TypeIAMUser:
			return Origin{ARN: is.ARN, Type: TypeIAMUser, Name: is.UserName, Account: is.AccountID,
				Chain: []string{is.ARN, ui.ARN}, Resolved: true}
		case TypeRoot:
			return Origin{ARN: is.ARN, Type: TypeRoot, Name: "root", Account: is.AccountID,
				Chain: []string{is.ARN, ui.ARN}, Resolved: true}
		}
	}
	arn := ui.ARN
	if arn == "" {
		arn = "arn:aws:sts::" + account + ":federated-user/unknown"
	}
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	return Origin{ARN: arn, Type: TypeFederatedUser, Name: name, Account: account, Chain: []string{arn}, Resolved: false}
}

func sessionIssuerARN(ui *cloudtrail.UserIdentity) string {
	if ui.SessionContext == nil {
		return ""
	}
	return ui.SessionContext.SessionIssuer.ARN
}

func sourceIdentity(ui *cloudtrail.UserIdentity) string {
	if ui.SessionContext == nil {
		return ""
	}
	return ui.SessionContext.SourceIdentity
}

// IdentityCenterUserARN is the origin ARN of an Identity Center user known
// by user name (from a permission-set role session).
func IdentityCenterUserARN(user string) string {
	return "arn:aws:identitystore:::user/" + user
}

func identityCenterUserARN(ui *cloudtrail.UserIdentity) string {
	if ui.OnBehalfOf != nil && ui.OnBehalfOf.UserID != "" {
		store := ui.OnBehalfOf.IdentityStoreARN
		if store == "" {
			store = "arn:aws:identitystore:::identitystore/unknown"
		}
		return store + "/user/" + ui.OnBehalfOf.UserID
	}
	if ui.UserName != "" {
		return IdentityCenterUserARN(ui.UserName)
	}
	return "arn:aws:identitystore:::user/" + ui.PrincipalID
}

// samlUserARN names a SAML-federated user: Trailhound's own ARN form,
// "arn:aws:iam::<account>:saml-user/<provider>/<subject>", since IAM has none.
func samlUserARN(account, principalID, user string) string {
	provider, subject, ok := strings.Cut(principalID, ":")
	if !ok {
		provider, subject = "saml", principalID
	}
	if user != "" {
		subject = user
	}
	return "arn:aws:iam::" + account + ":saml-user/" + provider + "/" + subject
}

// webIdentityARN names an OIDC web-identity user, likewise:
// "arn:aws:iam::<account>:oidc-user/<provider>/<subject>".
func webIdentityARN(account, provider, subject string) string {
	return "arn:aws:iam::" + account + ":oidc-user/" + provider + "/" + subject
}

// withHop returns a new chain: chain, then hop. It has no room to spare,
// so that appending to a chain shared by many events copies it.
func withHop(chain []string, hop string) []string {
	c := make([]string, len(chain)+1)
	copy(c, chain)
	c[len(chain)] = hop
	return c
}

// stsResponse is the part of an STS response Trailhound reads.
type stsResponse struct {
	AccessKeyID, Expiration, Session, SourceIdentity string
}

// parseSTSResponse reads the members of an STS response Trailhound needs in
// one pass (gjson) where encoding/json unmarshalling was 6 % of a replay:
// every role assumption goes through here. As unmarshalling into a struct
// of those members would, it gives up on a member of the wrong type; the
// assumed-role user, when there is one, names the session. It reads a view
// of raw (the members it returns are copied out of it).
func parseSTSResponse(raw []byte) (resp stsResponse, ok bool) {
	ok = true
	str := func(v gjson.Result, dst *string) {
		switch v.Type {
		case gjson.String:
			*dst = v.Str
		case gjson.Null:
		default:
			ok = false
		}
	}
	arn := func(v gjson.Result, dst *string) bool {
		if v.Type == gjson.Null {
			return false
		}
		if !v.IsObject() {
			ok = false
			return false
		}
		str(v.Get("arn"), dst)
		return true
	}
	var creds, assumed bool
	var federated string
	gjson.Parse(view(raw)).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "credentials":
			if v.Type == gjson.Null {
				break
			}
			if creds = v.IsObject(); !creds {
				ok = false
				break
			}
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "accessKeyId":
					str(v, &resp.AccessKeyID)
				case "expiration":
					str(v, &resp.Expiration)
				}
				return ok
			})
		case "assumedRoleUser":
			assumed = arn(v, &resp.Session)
		case "federatedUser":
			arn(v, &federated)
		case "sourceIdentity":
			str(v, &resp.SourceIdentity)
		}
		return ok
	})
	if !assumed {
		resp.Session = federated
	}
	if ok = ok && creds && resp.AccessKeyID != ""; ok {
		resp.detach()
	}
	return resp, ok
}

// detach copies the members out of the bytes they were read from, in one
// allocation.
func (r *stsResponse) detach() {
	members := [...]*string{&r.AccessKeyID, &r.Expiration, &r.Session, &r.SourceIdentity}
	n := 0
	for _, m := range members {
		n += len(*m)
	}
	var b strings.Builder
	b.Grow(n)
	for _, m := range members {
		b.WriteString(*m)
	}
	all := b.String()
	for _, m := range members {
		*m, all = all[:len(*m)], all[len(*m):]
	}
}

// view returns raw as a string without copying it, for gjson to read: a
// gjson result of the view shares raw's memory, which the replay reuses
// for later events (Stream.Recycle), so no result is kept beyond the call
// that reads it unless it is copied.
func view(raw []byte) string {
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

// sessionFromRequest builds the session ARN from an AssumeRole request's
// roleArn and roleSessionName, or returns "". It reads a view of raw: the
// ARN it returns is a new string.
func sessionFromRequest(raw json.RawMessage) string {
	request := view(raw)
	r := [...]gjson.Result{gjson.Get(request, "roleArn"), gjson.Get(request, "roleSessionName")}
	for _, v := range r {
		if v.Type != gjson.String && v.Type != gjson.Null {
			return ""
		}
	}
	roleARN, name := r[0].Str, r[1].Str
	if name == "" {
		return ""
	}
	partition, account, resource, ok := splitARN(roleARN)
	if !ok || !strings.HasPrefix(resource, "role/") {
		return ""
	}
	return "arn:" + partition + ":sts::" + account + ":assumed-role/" + RoleName(roleARN) + "/" + name
}

// issuingEvents are the STS calls whose responses carry new credentials.
var issuingEvents = map[string]bool{
	"AssumeRole":                true,
	"AssumeRoleWithSAML":        true,
	"AssumeRoleWithWebIdentity": true,
	"GetSessionToken":           true,
	"GetFederationToken":        true,
	"AssumeRoot":                true,
}

// issuedKey extracts the credentials an STS event issued and works out whose
// they are: the caller's origin with the new session appended to its chain,
// or, for AWS services assuming a role for a resource (an instance, a
// function), the role session itself as a machine identity.
func issuedKey(ev *cloudtrail.Event, at Attribution) (IssuedKey, bool) {
	if ev.EventSource != "sts.amazonaws.com" || !issuingEvents[ev.EventName] || ev.ErrorCode != "" || len(ev.ResponseElements) == 0 {
		return IssuedKey{}, false
	}
	resp, ok := parseSTSResponse(ev.ResponseElements)
	if !ok {
		return IssuedKey{}, false
	}
	expires, ok := parseExpiration(resp.Expiration)
	if !ok || !expires.After(ev.EventTime) {
		expires = ev.EventTime.Add(defaultKeyLifetime)
	}
	session := resp.Session
	if session == "" {
		// Services assuming roles get no assumedRoleUser in the response:
		// the session is the requested role and session name.
		session = sessionFromRequest(ev.RequestParameters)
	}
	o := at.Origin
	if resp.SourceIdentity != "" && o.SourceIdentity == "" {
		o.SourceIdentity = resp.SourceIdentity
	}
	switch {
	case session != "" && strings.HasPrefix(RoleName(session), "AWSReservedSSO_") && (ev.EventName == "AssumeRoleWithSAML" || !o.Resolved):
		// Identity Center signs its users in through SAML to the
		// permission-set role; the session is named after the user.
		user := SessionName(session)
		arn := IdentityCenterUserARN(user)
		o = Origin{ARN: arn, Type: TypeIdentityCenterUser, Name: user, Account: AccountOf(session),
			Chain: []string{arn, session}, Resolved: true, SourceIdentity: o.SourceIdentity}
	case at.ByService && session != "":
		// A service assumed a role for a resource it runs: the session is
		// a machine identity, known for what it is.
		o = Origin{ARN: session, Type: TypeAssumedRole, Name: RoleName(session), Account: AccountOf(session),
			Chain: []string{session}, Resolved: true, SourceIdentity: o.SourceIdentity}
	case session != "":
		if len(o.Chain) == 0 || o.Chain[len(o.Chain)-1] != session {
			o.Chain = withHop(o.Chain, session)
		}
	}
	return IssuedKey{AccessKeyID: resp.AccessKeyID, Origin: o, Expires: expires, IssuedBy: ev.EventID, Issued: ev.EventTime}, true
}

// expirationLayouts are the forms CloudTrail writes credentials' expiry in.
var expirationLayouts = []string{
	"Jan 2, 2006, 3:04:05 PM",
	"Jan 2, 2006 3:04:05 PM",
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
}

func parseExpiration(s string) (time.Time, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\u202f", " "))
	for _, layout := range expirationLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
