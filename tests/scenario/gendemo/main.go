// Command gendemo writes Trailhound's demo scenario: six days of CloudTrail
// in two member accounts of an organisation, as an organisation trail
// delivers them to S3, with an attack on Saturday night.
//
//	go run ./tests/scenario/gendemo -out events/demo
//
// The output is deterministic: the same bytes on every run. The test next
// to this file regenerates it and compares it with the committed copy.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

func main() {
	out := flag.String("out", "events/demo", "directory to write the scenario into")
	flag.Parse()
	st, err := generate(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendemo:", err)
		os.Exit(1)
	}
	fmt.Printf("gendemo: %d events (%d attack) in %d files, %d bytes compressed, under %s\n",
		st.events, st.attack, st.files, st.bytes, *out)
}

// build generates the whole scenario, sorted by time.
func build() *gen {
	g := newGen()
	g.alice()
	g.bob()
	g.chris()
	g.dana()
	g.svcReporting()
	g.ci()
	g.lambdaRuntime()
	g.webServers()
	g.scanner()
	g.configPeriodic()
	g.rotations()
	g.attack()
	sort.SliceStable(g.events, func(i, j int) bool {
		if !g.events[i].t.Equal(g.events[j].t) {
			return g.events[i].t.Before(g.events[j].t)
		}
		return g.events[i].seq < g.events[j].seq
	})
	for _, e := range g.events {
		if e.t.Before(weekStart) || !e.t.Before(weekEnd) {
			panic(fmt.Sprintf("event %s %s outside the week at %s", e.acct, e.name, e.t))
		}
		if (e.actor == actAttacker) != (e.step != "") {
			panic(fmt.Sprintf("event %s at %s: actor %q step %q", e.name, e.t, e.actor, e.step))
		}
	}
	return g
}

type stats struct {
	events, attack, files int
	bytes                 int64
}

// file is one delivered log file.
type file struct {
	acct, region string
	end          time.Time // delivery: the end of the five-minute period
	events       []*event
}

func (f *file) path(name string) string {
	return filepath.Join("AWSLogs", orgID, f.acct, "CloudTrail", f.region, f.end.Format("2006"), f.end.Format("01"), f.end.Format("02"),
		f.acct+"_CloudTrail_"+f.region+"_"+f.end.Format("20060102T1504Z")+"_"+name+".json.gz")
}

// files groups events by account, region and five-minute period.
func files(events []*event) []*file {
	byKey := map[string]*file{}
	var fs []*file
	for _, e := range events {
		end := e.t.Truncate(5 * time.Minute).Add(5 * time.Minute)
		k := e.acct + "|" + e.region + "|" + end.Format(time.RFC3339)
		f := byKey[k]
		if f == nil {
			f = &file{acct: e.acct, region: e.region, end: end}
			byKey[k] = f
			fs = append(fs, f)
		}
		f.events = append(f.events, e)
	}
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.acct != b.acct {
			return a.acct < b.acct
		}
		if a.region != b.region {
			return a.region < b.region
		}
		return a.end.Before(b.end)
	})
	return fs
}

func gz(data []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(err)
	}
	// No name and no modification time in the header: the same bytes every run.
	if _, err := zw.Write(data); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// generate writes the scenario under out: the log files, README.md and
// ground-truth.txt. It replaces out/AWSLogs.
func generate(out string) (stats, error) {
	g := build()
	var st stats
	if err := os.RemoveAll(filepath.Join(out, "AWSLogs")); err != nil {
		return st, err
	}
	names := seeded("files")
	for _, f := range files(g.events) {
		var b bytes.Buffer
		b.WriteString(`{"Records":[`)
		for i, e := range f.events {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(&b, e.rec)
		}
		b.WriteString("]}")
		data := gz(b.Bytes())
		p := filepath.Join(out, f.path(randString(names, alnum, 16)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return st, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return st, err
		}
		st.files++
		st.bytes += int64(len(data))
	}
	st.events = len(g.events)
	var truth bytes.Buffer
	for _, e := range g.events {
		if e.step == "" {
			continue
		}
		st.attack++
		writeJSON(&truth, obj("eventID", e.id, "eventTime", ts(e.t), "account", e.acct, "region", e.region, "eventName", e.name, "step", e.step))
		truth.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(out, "ground-truth.txt"), truth.Bytes(), 0o644); err != nil {
		return st, err
	}
	if err := os.WriteFile(filepath.Join(out, "README.md"), readme(g, st), 0o644); err != nil {
		return st, err
	}
	return st, nil
}
