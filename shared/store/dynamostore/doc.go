// Package dynamostore is a store.Store on one DynamoDB table: the store of
// the pipeline that runs in the security account, shared by every Lambda
// invocation. Every guarantee of the contract (first-seen facts, idempotent
// signals, forward-only watermarks, versioned incidents) is one conditional
// write on one item, so it holds across processes without locks or
// transactions.
//
// # Table design
//
// The table is the contract between this package and the infrastructure
// that creates it (CreateTable here, the CDK stack in production). Schema
// returns it as data; TableDesign documents each part.
//
//	keys     pk (S, partition), sk (S, sort); no local secondary index
//	billing  PAY_PER_REQUEST
//	TTL      "ttl": epoch seconds (issued keys, signals, signal-hour markers)
//	gsi1     gsi1pk / gsi1sk: signals by hour; incidents by policy
//	gsi2     gsi2pk / gsi2sk: signals and incidents by identity key
//	gsi3     gsi3pk / gsi3sk (sparse): tagged signals by hour; all incidents
//
// Every index key is a string and every index projects ALL attributes, so a
// query never goes back to the table. The items:
//
//	item          pk                sk                  attributes (index keys)
//	issued key    KEY#<access key>  KEY                 data, expires, ttl
//	profile       PROF#<key>        PROFILE             created, events
//	profile fact  PROF#<key>        FACT#<dim>#<value>  dim, val, first, last
//	signal        SIG#<id>          SIG                 data, expires, ttl,
//	                                                    gsi1 SIGH#<hour> <time>#<id>,
//	                                                    gsi2 SIGI#<identity> <time>#<id>,
//	                                                    gsi3 SIGT#<hour> <time>#<id> (tagged only)
//	signal day    SIGHOURS          <date>              ttl
//	watermark     WM#<name>         WM                  at
//	incident      INC#<id>          INC                 data, version, policy, identity, lastSeen,
//	                                                    gsi1 INCP#<policy> <first seen>#<id>,
//	                                                    gsi2 INCI#<identity> <first seen>#<id>,
//	                                                    gsi3 INC <first seen>#<id>
//
// Times are UTC strings of fixed width, "2006-01-02T15:04:05.000000000Z",
// so that they sort, and compare in condition expressions, as times do; an
// hour is "2006-01-02T15". data is the value as JSON. A fact whose sort key
// would pass DynamoDB's 1 KiB limit has its value replaced by a hash in the
// sort key (the val attribute keeps it whole).
//
// # Operations
//
//   - AddFact is one UpdateItem on the fact item: it sets first (if absent)
//     and last under the condition attribute_not_exists(pk) OR last < t,
//     returning the old item. No old item means the fact was new, which
//     exactly one concurrent caller sees. A failed condition returns the
//     old item too; only an add earlier than the stored first seen time
//     (then event id) needs a second, conditional, UpdateItem, which moves
//     first and event back and makes that event the fact's first. A profile's Created is the
//     earliest of the header's created (AddEvents) and every fact's first.
//   - AddEvents is one UpdateItem (ADD events) on the header; a time
//     earlier than the stored created costs a second conditional update.
//   - Profile is a paginated Query of the identity's partition.
//   - PutSignal is a PutItem under attribute_not_exists(pk) OR at > :at OR
//     (at = :at AND event > :ev): of the signals of one id, the earliest
//     event's is kept, whatever order detectors write them in. A Store also
//     records each day that holds signals in the SIGHOURS partition, once
//     per day and process (the marker's TTL follows the latest expiry).
//   - Signals queries gsi2 for an identity, else gsi1 (gsi3 when Tagged) hour
//     by hour. A bounded range of up to a day is walked directly; a longer or
//     open range reads the days from SIGHOURS first, then each hour of
//     them (older Stores marked hours; both are read). No query scans.
//   - AdvanceWatermark is an UpdateItem under attribute_not_exists(pk) OR
//     at < t.
//   - PutIncident is a PutItem under attribute_not_exists(pk) for version 1,
//     and version = n-1 for version n. Incidents queries gsi2 (identity),
//     gsi1 (policy) or gsi3 (neither); the other filters are filter
//     expressions.
//
// Expired items (DynamoDB deletes them up to days late) are filtered out on
// read. Reads are eventually consistent unless ConsistentReads is given;
// index queries always are. A failed condition means what the contract says
// (not added, not advanced, store.ErrConflict); throttling, 5xx responses and
// timeouts, after the SDK's own retries, wrap store.ErrTransient.
package dynamostore
