package main

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// O is a JSON object that keeps its keys in the order they were added, the
// order CloudTrail writes them in. A nil value is written as null.
type O []kv

// obj builds an O from alternating keys and values.
func obj(pairs ...any) O {
	if len(pairs)%2 != 0 {
		panic("obj: odd number of arguments")
	}
	o := make(O, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		o = append(o, kv{pairs[i].(string), pairs[i+1]})
	}
	return o
}

// empty is the {} CloudTrail writes for empty request structures.
func empty() O { return O{} }

// writeJSON writes v compactly, without HTML escaping, as CloudTrail does.
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, x)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case O:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.k)
			b.WriteByte(':')
			writeJSON(b, m.v)
		}
		b.WriteByte('}')
	case []O:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e)
		}
		b.WriteByte(']')
	default:
		panic(fmt.Sprintf("writeJSON: unsupported %T", v))
	}
}

func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
			i++
		case c == '\n':
			b.WriteString(`\n`)
			i++
		case c == '\r':
			b.WriteString(`\r`)
			i++
		case c == '\t':
			b.WriteString(`\t`)
			i++
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+n])
			i += n
		}
	}
	b.WriteByte('"')
}

// Time formats CloudTrail uses.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// expiry is the STS credentials' expiration format: "Nov 21, 2026, 2:10:07 PM".
func expiry(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }

// iamDate is IAM's createDate format: "Nov 21, 2026 2:22:36 AM".
func iamDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006 3:04:05 PM") }

// lambdaDate is Lambda's lastModified format.
func lambdaDate(t time.Time, ms int) string {
	return t.UTC().Format("2006-01-02T15:04:05") + fmt.Sprintf(".%03d+0000", ms)
}

// seeded returns a deterministic generator for a name: every actor draws
// from its own stream, so changing one actor does not reshuffle the others.
func seeded(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(0x7261696c686f756e, h.Sum64()))
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randHex(r *rand.Rand, n int) string { return randString(r, "0123456789abcdef", n) }

func randB64(r *rand.Rand, nbytes int) string {
	b := make([]byte, nbytes)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func uuid(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// awsID makes an AWS identifier (access key id, user or role id) that
// encodes the account, as real ones do: base32 of 10 bytes whose first six
// hold the account id shifted left by seven bits.
func awsID(r *rand.Rand, prefix, account string, extra int) string {
	acct, err := strconv.ParseUint(account, 10, 64)
	if err != nil {
		panic(err)
	}
	v := 1<<47 | acct<<7 | uint64(r.IntN(128))
	var buf [10]byte
	for i := 0; i < 6; i++ {
		buf[i] = byte(v >> (8 * (5 - i)))
	}
	for i := 6; i < 10; i++ {
		buf[i] = byte(r.IntN(256))
	}
	s := prefix + base32.StdEncoding.EncodeToString(buf[:])
	return s + randString(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", extra)
}

// sessionToken is an STS session token of a plausible length and shape.
func sessionToken(r *rand.Rand) string {
	return "IQoJb3JpZ2luX2VjE" + randString(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 1) +
		randString(r, b64chars, 380+4*r.IntN(60)) + "=="
}

func jitter(r *rand.Rand, lo, hi int) time.Duration {
	if hi <= lo {
		return time.Duration(lo) * time.Second
	}
	return time.Duration(lo+r.IntN(hi-lo+1)) * time.Second
}

// isServiceAgent reports whether ua names an AWS service rather than a client.
func isServiceAgent(ua string) bool {
	return ua == "AWS Internal" || strings.HasSuffix(ua, ".amazonaws.com")
}
