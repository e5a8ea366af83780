package cloudtrail

import (
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	segjson "github.com/segmentio/encoding/json"
)

// The fast path decodes an ordinary CloudTrail record in one pass straight
// from the Reader's buffer: it finds where the record ends while it decodes
// it, so the record is read once instead of split and then parsed again.
//
// It handles what CloudTrail writes: the record's known keys once each,
// strings, booleans, objects and arrays of the expected shapes, any valid
// JSON in the raw fields and unknown keys. Anything else (a value of an
// unexpected type, a null where a value is expected, a duplicate key, a key
// that only matches a field case-insensitively, non-ASCII bytes outside
// the string fields, deep nesting, an envelope or a "Records" wrapper, a
// record the checks of finish reject, or a record that runs past the
// buffered input) makes it give up without deciding anything, and the
// record takes the general path: split, then decode with the JSON library,
// then the lenient decoder. So the fast path only ever returns what the
// general path would have returned; FuzzDecode and TestFastPathAgrees hold
// it to that.
//
// Strings are not copied one by one: the fields that repeat from record to
// record (sources, names, regions, identities, agents) come from a small
// table of strings already seen (sharedStrings), the ids are copied, and
// the raw fields share one copy. No string of an event points into its
// record or the Reader's buffer, so keeping one keeps nothing else alive.

// fastMaxDepth is the nesting the fast path follows; deeper records take the
// general path, which enforces maxDepth.
const fastMaxDepth = 64

// fastDecode decodes the record that starts at data[0] ('{') and may be
// followed by more input into ev, which it overwrites whole. It returns the
// record's length, or ok false when the record must take the general path
// (ev is then unspecified). raw, when not nil, is memory for the raw
// fields, as for Reader.NextInto.
func fastDecode(data []byte, limit int, ev *Event, raw *[]byte) (n int, ok bool) {
	p := fastParsers.Get().(*fastParser)
	defer p.release()
	p.data = data
	w := &p.w
	if !p.record(w) || p.i > limit {
		return 0, false
	}
	n = p.i
	rec := data[:n]
	size := 0
	for _, r := range p.raws[:p.nraw] {
		size += r.end - r.start
	}
	if size > 0 {
		raws := rawMemory(raw, size)
		for _, r := range p.raws[:p.nraw] {
			k := len(raws)
			raws = append(raws, rec[r.start:r.end]...)
			*r.dst = raws[k:len(raws):len(raws)]
		}
	}
	// The ids share one copy: one allocation instead of two or three.
	idsLen := 0
	for _, s := range p.strs[:p.nstr] {
		if s.mode == strUnique {
			idsLen += s.end - s.start
		}
	}
	var ids string
	if idsLen > 0 {
		var sb strings.Builder
		sb.Grow(idsLen)
		for _, s := range p.strs[:p.nstr] {
			if s.mode == strUnique {
				sb.Write(rec[s.start:s.end])
			}
		}
		ids = sb.String()
	}
	sharedStrings.lock()
	for k, s := range p.strs[:p.nstr] {
		b := rec[s.start:s.end]
		switch {
		case len(b) == 0:
		case s.mode == strTransient:
			*s.dst = unsafe.String(&b[0], len(b))
		case s.mode == strUnique:
			*s.dst, ids = ids[:len(b)], ids[len(b):]
		case p.prev[k] == string(b):
			// The same string as the previous record's k-th: records of a
			// file mostly share their caller, agent, region and so on, and
			// comparing with it costs less than the table's hash and its
			// slot, likely out of the processor's cache.
			*s.dst = p.prev[k]
		default:
			*s.dst = sharedStrings.get(b)
			p.prev[k] = *s.dst
		}
	}
	sharedStrings.unlock()
	if p.hasResources {
		// After the strings: they point into p.res.
		w.resources = append([]Resource{}, p.res[:p.nres]...)
		w.resourcesDone = true
	}
	// finish reads the transient strings (the times) and rec, and keeps
	// neither.
	if err := finish(w, rec, decoder, ev); err != nil {
		return 0, false
	}
	return n, true
}

// minRawMemory is the least memory rawMemory gives a caller's raw fields.
const minRawMemory = 1024

// rawMemory returns empty memory with room for size bytes, for the raw
// fields of a record to share: *raw when it has room, otherwise new memory,
// stored in *raw when raw is not nil. New memory comes from slices.Grow,
// whose capacity is the whole of the allocation's size class.
func rawMemory(raw *[]byte, size int) []byte {
	if raw == nil {
		return slices.Grow([]byte(nil), size)
	}
	if cap(*raw) < size {
		// Room for more than this record: the next may well be larger.
		*raw = slices.Grow([]byte(nil), max(size, 2*cap(*raw), minRawMemory))
	}
	return (*raw)[:0]
}

// sharedStrings is the table of the strings that repeat between records:
// an event's source, name, region, identity, agent and the like come from
// it, so that decoding them allocates nothing and the strings an event
// shares with its record are small ones of their own (keeping one keeps
// nothing else alive). It is a direct-mapped cache: a string whose slot
// holds another replaces it.
var sharedStrings = stringTable{seed: maphash.MakeSeed()}

// stringTableSlots is the size of the table; stringTableLongest is the
// longest string it keeps.
const (
	stringTableSlots   = 1 << 13
	stringTableLongest = 256
)

type stringTable struct {
	mu    sync.Mutex
	seed  maphash.Seed
	slots [stringTableSlots]string
}

func (t *stringTable) lock()   { t.mu.Lock() }
func (t *stringTable) unlock() { t.mu.Unlock() }

// get returns the string of b from the table, adding it; t must be locked.
func (t *stringTable) get(b []byte) string {
	if len(b) > stringTableLongest {
		return string(b)
	}
	slot := &t.slots[maphash.Bytes(t.seed, b)&(stringTableSlots-1)]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}

// fastParsers holds parsers between records: a parser points into itself
// (its pending fields are in its own record), so it lives on the heap, and
// reusing it saves allocating and clearing one per record.
var fastParsers = sync.Pool{New: func() any { return new(fastParser) }}

// release clears the parser for the next record and returns it to the pool.
func (p *fastParser) release() {
	p.data = nil
	p.i, p.nstr, p.nraw = 0, 0, 0
	clear(p.res[:p.nres])
	p.nres, p.hasResources = 0, false
	p.identity = UserIdentity{}
	p.w = wireRecord{}
	p.parts, p.webID = nil, nil
	fastParsers.Put(p)
}

// pendingString and pendingRaw are fields to point into the record's copy
// once its length is known.
type pendingString struct {
	dst        *string
	start, end int
	mode       strMode
}

// strMode says how a string field is made from the record's bytes.
type strMode uint8

const (
	// strShared fields repeat from record to record (sources, names,
	// regions, identities, agents): they come from the string table.
	strShared strMode = iota
	// strUnique fields differ in every record (ids): a copy each.
	strUnique
	// strTransient fields are only read by finish (the times): they
	// point into the input, which finish does not keep.
	strTransient
)

type pendingRaw struct {
	dst        *json.RawMessage
	start, end int
}

// fastParser is the fast path's position in the input and the fields it
// has found.
type fastParser struct {
	data []byte
	i    int
	strs [64]pendingString
	nstr int
	// prev holds the shared strings of the previous record the parser
	// decoded, by their place in strs (kept between records).
	prev [64]string
	raws [8]pendingRaw
	nraw int
	// res holds the resources list (hasResources is set when the record
	// has one).
	res          [16]Resource
	nres         int
	hasResources bool
	// identity is the record's userIdentity, copied into the event.
	identity UserIdentity
	// w is the record being decoded.
	w wireRecord
	// parts are the record's, once needed (see part); webID is allocated
	// with the session context when it can be (newSessionContext).
	parts *recordParts
	webID *WebIDFederationData
}

// Fields of wireRecord, as bits, to refuse duplicate keys.
const (
	fEventVersion = 1 << iota
	fEventID
	fEventTime
	fTimestamp
	fEventSource
	fEventName
	fEventType
	fEventCategory
	fAWSRegion
	fSourceIP
	fUserAgent
	fUserIdentity
	fRequestParameters
	fResponseElements
	fAdditionalEventData
	fServiceEventDetails
	fErrorCode
	fErrorMessage
	fRequestID
	fReadOnly
	fManagementEvent
	fRecipientAccountID
	fSharedEventID
	fVPCEndpointID
	fSessionCredentialFromConsole
	fResources
)

func (p *fastParser) ws() {
	if p.i < len(p.data) && p.data[p.i] > ' ' {
		return
	}
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (p *fastParser) peek() byte {
	p.ws()
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

// key reads an object key and the colon after it. Keys with escapes or
// non-ASCII bytes are refused.
func (p *fastParser) key() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	start := p.i + 1
	j := plainRun(p.data, start)
	if j >= len(p.data) || p.data[j] != '"' {
		return "", false
	}
	k := unsafe.String(unsafe.SliceData(p.data[start:]), j-start)
	p.i = j + 1
	if p.peek() != ':' {
		return "", false
	}
	p.i++
	p.ws()
	return k, true
}

// object walks an object's members, calling member with each key; member
// consumes the value. It returns false on anything unexpected.
func (p *fastParser) object(member func(k string) bool) bool {
	if p.peek() != '{' {
		return false
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return true
	}
	for {
		k, ok := p.key()
		if !ok || !member(k) {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string value into dst: plain ASCII strings point into the
// record's copy later, others are unquoted by the JSON library now.
func (p *fastParser) str(dst *string) bool { return p.strAs(dst, strShared) }

func (p *fastParser) strAs(dst *string, mode strMode) bool {
	if p.peek() != '"' {
		return false
	}
	start := p.i + 1
	if j := plainRun(p.data, start); j < len(p.data) && p.data[j] == '"' {
		if p.nstr == len(p.strs) {
			return false
		}
		p.strs[p.nstr] = pendingString{dst, start, j, mode}
		p.nstr++
		p.i = j + 1
		return true
	}
	// Escapes or non-ASCII bytes: find the end, then let the library
	// unquote exactly as it would inside the record.
	p.i = start - 1
	if !p.skipString(true) {
		return false
	}
	return segjson.Unmarshal(p.data[start-1:p.i], dst) == nil
}

// raw reads any JSON value into dst, verbatim.
func (p *fastParser) raw(dst *json.RawMessage) bool {
	p.ws()
	start := p.i
	if !p.skip(0) || p.nraw == len(p.raws) {
		return false
	}
	p.raws[p.nraw] = pendingRaw{dst, start, p.i}
	p.nraw++
	return true
}

// boolPtr reads true or false into v and points dst to it.
func (p *fastParser) boolPtr(dst **bool, v *bool) bool {
	p.ws()
	d := p.data[p.i:]
	switch {
	case len(d) >= 4 && string(d[:4]) == "true":
		p.i += 4
		*v = true
	case len(d) >= 5 && string(d[:5]) == "false":
		p.i += 5
		*v = false
	default:
		return false
	}
	*dst = v
	return p.literalEnds()
}

// recordParts are the flags an event points to, allocated together: one
// allocation per record instead of two.
type recordParts struct {
	readOnly        bool
	managementEvent bool
}

// sessionParts are a session context, its web identity data and the
// record's flags, allocated together: nine records in ten of an ordinary
// trail have a session context, most assumed-role sessions carry an
// (empty) webIdFederationData, and the flags fit in the size class for
// nothing.
type sessionParts struct {
	session SessionContext
	webID   WebIDFederationData
	flags   recordParts
}

// part returns the record's parts, allocating them on first use.
func (p *fastParser) part() *recordParts {
	if p.parts == nil {
		p.parts = new(recordParts)
	}
	return p.parts
}

// newSessionContext returns a session context for the record, allocated
// with the record's parts unless they already are (CloudTrail writes the
// userIdentity before the flags).
func (p *fastParser) newSessionContext() *SessionContext {
	if p.parts != nil {
		return new(SessionContext)
	}
	sp := new(sessionParts)
	p.parts, p.webID = &sp.flags, &sp.webID
	return &sp.session
}

// newWebIDFederation returns web identity data for the record's session
// context: the room allocated with it (newSessionContext) if there is.
func (p *fastParser) newWebIDFederation() *WebIDFederationData {
	if p.webID != nil {
		return p.webID
	}
	return new(WebIDFederationData)
}

// literalEnds checks that a literal or number is not followed by more
// letters or digits.
func (p *fastParser) literalEnds() bool {
	return p.i < len(p.data) && !scalarByte[p.data[p.i]]
}

// unknown skips the value of a key the struct does not have, refusing a key
// the JSON library would match to a field case-insensitively.
func (p *fastParser) unknown(k string, folded map[string]bool) bool {
	var lower [64]byte
	if len(k) > len(lower) {
		return p.skip(0)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	if folded[string(lower[:len(k)])] {
		return false
	}
	return p.skip(0)
}

// once marks a field seen and refuses it the second time.
func once(seen *uint64, bit uint64) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// Lower-cased JSON names of the structs the fast path decodes.
var (
	foldRecord          = foldNames[wireRecord]()
	foldUserIdentity    = foldNames[UserIdentity]()
	foldSessionContext  = foldNames[SessionContext]()
	foldSessionIssuer   = foldNames[SessionIssuer]()
	foldAttributes      = foldNames[SessionAttributes]()
	foldWebIDFederation = foldNames[WebIDFederationData]()
	foldOnBehalfOf      = foldNames[OnBehalfOf]()
	foldResource        = foldNames[Resource]()
)

// foldNames returns the lower-cased JSON names of T's fields.
func foldNames[T any]() map[string]bool {
	t := reflect.TypeFor[T]()
	names := make(map[string]bool, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		names[strings.ToLower(name)] = true
	}
	return names
}

// record decodes the top-level record.
func (p *fastParser) record(w *wireRecord) bool {
	var seen uint64
	return p.object(func(k string) bool {
		switch k {
		case "eventVersion":
			return once(&seen, fEventVersion) && p.str(&w.EventVersion)
		case "eventID":
			return once(&seen, fEventID) && p.strAs(&w.EventID, strUnique)
		case "eventTime":
			return once(&seen, fEventTime) && p.strAs(&w.EventTime, strTransient)
		case "@timestamp":
			return once(&seen, fTimestamp) && p.strAs(&w.Timestamp, strTransient)
		case "eventSource":
			return once(&seen, fEventSource) && p.str(&w.EventSource)
		case "eventName":
			return once(&seen, fEventName) && p.str(&w.EventName)
		case "eventType":
			return once(&seen, fEventType) && p.str(&w.EventType)
		case "eventCategory":
			return once(&seen, fEventCategory) && p.str(&w.EventCategory)
		case "awsRegion":
			return once(&seen, fAWSRegion) && p.str(&w.AWSRegion)
		case "sourceIPAddress":
			return once(&seen, fSourceIP) && p.str(&w.SourceIPAddress)
		case "userAgent":
			return once(&seen, fUserAgent) && p.str(&w.UserAgent)
		case "userIdentity":
			if !once(&seen, fUserIdentity) {
				return false
			}
			w.UserIdentity = &p.identity
			return p.userIdentity(w.UserIdentity)
		case "requestParameters":
			return once(&seen, fRequestParameters) && p.raw(&w.RequestParameters)
		case "responseElements":
			return once(&seen, fResponseElements) && p.raw(&w.ResponseElements)
		case "additionalEventData":
			return once(&seen, fAdditionalEventData) && p.raw(&w.AdditionalEventData)
		case "serviceEventDetails":
			return once(&seen, fServiceEventDetails) && p.raw(&w.ServiceEventDetails)
		case "errorCode":
			return once(&seen, fErrorCode) && p.str(&w.ErrorCode)
		case "errorMessage":
			return once(&seen, fErrorMessage) && p.str(&w.ErrorMessage)
		case "requestID":
			return once(&seen, fRequestID) && p.strAs(&w.RequestID, strUnique)
		case "readOnly":
			return once(&seen, fReadOnly) && p.boolPtr(&w.ReadOnly, &p.part().readOnly)
		case "managementEvent":
			return once(&seen, fManagementEvent) && p.boolPtr(&w.ManagementEvent, &p.part().managementEvent)
		case "recipientAccountId":
			return once(&seen, fRecipientAccountID) && p.str(&w.RecipientAccountID)
		case "sharedEventID":
			return once(&seen, fSharedEventID) && p.strAs(&w.SharedEventID, strUnique)
		case "vpcEndpointId":
			return once(&seen, fVPCEndpointID) && p.str(&w.VPCEndpointID)
		case "sessionCredentialFromConsole":
			return once(&seen, fSessionCredentialFromConsole) && p.str(&w.SessionCredentialFromConsole)
		case "resources":
			return once(&seen, fResources) && p.resourceList()
		case "detail-type", "detail", "Records":
			return false
		}
		return p.unknown(k, foldRecord)
	})
}

func (p *fastParser) userIdentity(u *UserIdentity) bool {
	var seen uint64
	return p.object(func(k string) bool {
		switch k {
		case "type":
			return once(&seen, 1<<0) && p.str(&u.Type)
		case "principalId":
			return once(&seen, 1<<1) && p.str(&u.PrincipalID)
		case "arn":
			return once(&seen, 1<<2) && p.str(&u.ARN)
		case "accountId":
			return once(&seen, 1<<3) && p.str(&u.AccountID)
		case "accessKeyId":
			return once(&seen, 1<<4) && p.str(&u.AccessKeyID)
		case "userName":
			return once(&seen, 1<<5) && p.str(&u.UserName)
		case "invokedBy":
			return once(&seen, 1<<6) && p.str(&u.InvokedBy)
		case "identityProvider":
			return once(&seen, 1<<7) && p.str(&u.IdentityProvider)
		case "credentialId":
			return once(&seen, 1<<8) && p.str(&u.CredentialID)
		case "sessionContext":
			if !once(&seen, 1<<9) {
				return false
			}
			u.SessionContext = p.newSessionContext()
			return p.sessionContext(u.SessionContext)
		case "onBehalfOf":
			if !once(&seen, 1<<10) {
				return false
			}
			u.OnBehalfOf = new(OnBehalfOf)
			return p.onBehalfOf(u.OnBehalfOf)
		}
		return p.unknown(k, foldUserIdentity)
	})
}

func (p *fastParser) sessionContext(sc *SessionContext) bool {
	var seen uint64
	return p.object(func(k string) bool {
		switch k {
		case "sessionIssuer":
			return once(&seen, 1<<0) && p.sessionIssuer(&sc.SessionIssuer)
		case "attributes":
			return once(&seen, 1<<1) && p.attributes(&sc.Attributes)
		case "sourceIdentity":
			return once(&seen, 1<<2) && p.str(&sc.SourceIdentity)
		case "webIdFederationData":
			if !once(&seen, 1<<3) {
				return false
			}
			sc.WebIDFederationData = p.newWebIDFederation()
			return p.webIDFederation(sc.WebIDFederationData)
		case "ec2RoleDelivery":
			return once(&seen, 1<<4) && p.str(&sc.EC2RoleDelivery)
		}
		return p.unknown(k, foldSessionContext)
	})
}

func (p *fastParser) sessionIssuer(si *SessionIssuer) bool {
	var seen uint64
	return p.object(func(k string) bool {
		switch k {
		case "type":
			return once(&seen, 1<<0) && p.str(&si.Type)
		case "principalId":
			return once(&seen, 1<<1) && p.str(&si.PrincipalID)
		case "arn":
			return once(&seen, 1<<2) && p.str(&si.ARN)
		case "accountId":
			return once(&seen, 1<<3) && p.str(&si.AccountID)
		case "userName":
			return once(&seen, 1<<4) && p.str(&si.UserName)
		}
		return p.unknown(k, foldSessionIssuer)
	})
}

func (p *fastParser) attributes(a *SessionAttributes) bool {
	var seen uint64
	return p.object(func(k string) bool {
		switch k {
		case "creationDate":
			return once(&seen, 1<<0) && p.str(&a.CreationDate)
		case "mfaAuthenticated":
			return once(&seen, 1<<1) && p.str(&a.MFAAuthenticated)
		}
		return p.unknown(k, foldAttributes)
	})
}

func (p *fastParser) webIDFederation(f *WebIDFederationData) bool {
	var seen uint64
	return p.object(func(k string) bool {
		if k == "federatedProvider" {
			return once(&seen, 1) && p.str(&f.FederatedProvider)
		}
		return p.unknown(k, foldWebIDFederation)
	})
}

func (p *fastParser) onBehalfOf(o *OnBehalfOf) bool {
	var seen uint64
	return p.object(func(k string) bool {
		switch k {
		case "userId":
			return once(&seen, 1<<0) && p.str(&o.UserID)
		case "identityStoreArn":
			return once(&seen, 1<<1) && p.str(&o.IdentityStoreARN)
		}
		return p.unknown(k, foldOnBehalfOf)
	})
}

// resourceList reads the record's resources: an array of objects.
func (p *fastParser) resourceList() bool {
	if p.peek() != '[' {
		return false
	}
	p.i++
	p.hasResources = true
	if p.peek() == ']' {
		p.i++
		return true
	}
	for {
		if p.nres == len(p.res) {
			return false
		}
		r := &p.res[p.nres]
		p.nres++
		var seen uint64
		ok := p.object(func(k string) bool {
			switch k {
			case "ARN":
				return once(&seen, 1<<0) && p.str(&r.ARN)
			case "accountId":
				return once(&seen, 1<<1) && p.str(&r.AccountID)
			case "type":
				return once(&seen, 1<<2) && p.str(&r.Type)
			}
			return p.unknown(k, foldResource)
		})
		if !ok {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return true
		default:
			return false
		}
	}
}

// skip consumes one valid JSON value (ASCII only), at most fastMaxDepth
// deep.
func (p *fastParser) skip(depth int) bool {
	if depth > fastMaxDepth {
		return false
	}
	switch p.peek() {
	case '{':
		p.i++
		if p.peek() == '}' {
			p.i++
			return true
		}
		for {
			if p.peek() != '"' || !p.skipString(false) {
				return false
			}
			if p.peek() != ':' {
				return false
			}
			p.i++
			if !p.skip(depth + 1) {
				return false
			}
			switch p.peek() {
			case ',':
				p.i++
			case '}':
				p.i++
				return true
			default:
				return false
			}
		}
	case '[':
		p.i++
		if p.peek() == ']' {
			p.i++
			return true
		}
		for {
			if !p.skip(depth + 1) {
				return false
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return true
			default:
				return false
			}
		}
	case '"':
		return p.skipString(false)
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return p.number()
	}
	return false
}

func (p *fastParser) literal(lit string) bool {
	if len(p.data)-p.i < len(lit) || string(p.data[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return p.literalEnds()
}

// number consumes a JSON number.
func (p *fastParser) number() bool {
	d, i := p.data, p.i
	digits := func() bool {
		s := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	p.i = i
	return p.literalEnds()
}

// plainStop marks the bytes that end a run of plain ASCII string content:
// the quote, the backslash, control bytes and non-ASCII bytes.
var plainStop = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

// plainRun returns the index of the first byte from i on that plainStop
// marks, or len(d). It looks at eight bytes at a time: a byte is flagged
// when it is a quote or a backslash (equal after the XOR, so zero), below
// 0x20, or has its high bit set. Borrows can only flag bytes after the
// first flagged one, so the lowest flag is exact.
func plainRun(d []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for i+8 <= len(d) {
		w := binary.LittleEndian.Uint64(d[i:])
		q := w ^ (ones * '"')
		b := w ^ (ones * '\\')
		m := ((q - ones) &^ q) | ((b - ones) &^ b) | ((w - ones*0x20) &^ w) | w
		if m &= high; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(d) && !plainStop[d[i]] {
		i++
	}
	return i
}

// hexDigit marks the bytes of hexadecimal digits.
var hexDigit = byteClass("0123456789abcdefABCDEF")

// skipString consumes a string at p.data[p.i] == '"', checking its escapes;
// non-ASCII bytes are accepted only when utf8 is set.
func (p *fastParser) skipString(utf8 bool) bool {
	d := p.data
	i := p.i + 1
	for i < len(d) {
		i = plainRun(d, i)
		if i == len(d) {
			break
		}
		c := d[i]
		switch {
		case c == '"':
			p.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !hexDigit[d[i+2]] || !hexDigit[d[i+3]] || !hexDigit[d[i+4]] || !hexDigit[d[i+5]] {
					return false
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		case c >= 0x80 && !utf8:
			return false
		default:
			i++
		}
	}
	return false
}
