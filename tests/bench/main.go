// Command bench measures Trailhound's replay on a large generated corpus:
// the 2,900 real records of the Invictus Stratus run (an hour of a real
// account: Terraform, console, attack tooling, AWS services) replicated with shifted times, new
// event ids, and identities and keys renamed per copy (a bounded population
// of identities, as in a real organisation), written as S3-export files.
//
// Each phase runs in its own child process on one core (GOMAXPROCS=1) so
// that its peak memory is its own:
//
//	stdlib    decode the files with encoding/json into []cloudtrail.Event
//	reader    Trailhound's streaming reader alone (split + decode)
//	foundations  replay (order, dedup) + attribute + baseline, memstore
//	pipeline  the whole pipeline as the CLI runs it: replay, attribute,
//	          baseline, detections, bursts, signals, correlation every minute
//
// Run it with `make bench`.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/replay"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

func main() {
	events := flag.Int("events", 1_000_000, "events in the generated corpus")
	perFile := flag.Int("per-file", 1000, "records per generated file")
	identities := flag.Int("identities", 200, "identity groups: copies rename users, roles and keys modulo this")
	corpus := flag.String("corpus", "invictus", "what the generated corpus replicates: invictus (the Stratus run: an attack every two hours, the worst case) or demo (events/demo: six days of an organisation's ordinary work with one attack, a realistic mix)")
	dir := flag.String("dir", "", "corpus folder (default: .bin/bench-corpus-<events>, .bin/bench-corpus-demo-<events> for -corpus demo)")
	datasets := flag.String("datasets", os.Getenv("TRAILHOUND_DATASETS"), "the shared datasets folder")
	phases := flag.String("phases", "stdlib,reader,foundations,pipeline", "the phases to run, comma-separated (none: only generate the corpus)")
	phase := flag.String("phase", "", "internal: run one phase in this process")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of each phase to this file")
	memprofile := flag.String("memprofile", "", "write a heap profile at the end of each phase to this file")
	flag.StringVar(&incidentsOut, "incidents", "", "write the pipeline phase's incidents to this file as JSON lines (to compare versions)")
	flag.Parse()
	log.SetFlags(0)

	if *dir == "" {
		switch *corpus {
		case "invictus":
			*dir = filepath.Join(".bin", fmt.Sprintf("bench-corpus-%d", *events))
		default:
			*dir = filepath.Join(".bin", fmt.Sprintf("bench-corpus-%s-%d", *corpus, *events))
		}
	}
	if *phase != "" {
		runtime.GOMAXPROCS(1)
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				log.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				log.Fatal(err)
			}
			defer pprof.StopCPUProfile()
		}
		if err := runPhase(*phase, *dir); err != nil {
			log.Print(err)
			os.Exit(1)
		}
		if *memprofile != "" {
			f, err := os.Create(*memprofile)
			if err != nil {
				log.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				log.Fatal(err)
			}
			f.Close()
		}
		return
	}
	if *datasets == "" {
		*datasets = "../shared/datasets"
	}
	var sources []string
	switch *corpus {
	case "invictus":
		sources, _ = filepath.Glob(filepath.Join(*datasets, "invictus-aws-stratus-simulation", "raw", "*.json"))
	case "demo":
		sources, _ = filepath.Glob(filepath.Join("events", "demo", "AWSLogs", "*", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	default:
		log.Fatalf("unknown corpus %q (want invictus or demo)", *corpus)
	}
	if err := generate(sources, *dir, *events, *perFile, *identities); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("corpus: %s, replicating %s (%d events, %d per file), %s, %s, %d cores available, measured on 1 (GOMAXPROCS=1)\n\n",
		*dir, *corpus, *events, *perFile, runtime.Version(), cpuModel(), runtime.NumCPU())
	fmt.Printf("%-12s %9s %8s %10s %8s %10s %13s %12s %9s %6s\n", "phase", "events", "wall s", "events/s", "CPU s", "ev/CPU-s", "allocs/event", "bytes/event", "peak RSS", "steal")
	for _, p := range strings.Split(*phases, ",") {
		if p == "none" {
			continue
		}
		cmd := exec.Command(os.Args[0], "-phase", p, "-dir", *dir, "-cpuprofile", *cpuprofile, "-memprofile", *memprofile, "-incidents", incidentsOut)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			log.Fatalf("phase %s: %v", p, err)
		}
		fmt.Print(string(out))
	}
}

func runPhase(phase, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no corpus in %s: %v", dir, err)
	}
	sort.Strings(files)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	cpuStart := cpuTime()
	stealStart, ticksStart := stolen()
	var n int
	switch phase {
	case "stdlib":
		n, err = decodeStdlib(files)
	case "reader":
		n, err = decodeReader(files)
	case "foundations":
		n, err = runFoundations(dir)
	case "pipeline":
		n, err = runPipeline(dir)
	default:
		err = fmt.Errorf("unknown phase %q", phase)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpuStart
	stealEnd, ticksEnd := stolen()
	runtime.ReadMemStats(&after)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(n)
	allocBytes := float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	steal := "n/a"
	if ticksEnd > ticksStart {
		steal = fmt.Sprintf("%.1f%%", 100*float64(stealEnd-stealStart)/float64(ticksEnd-ticksStart))
	}
	fmt.Printf("%-12s %9d %8.2f %10.0f %8.2f %10.0f %13.1f %12.0f %9s %6s\n", phase, n, elapsed.Seconds(), float64(n)/elapsed.Seconds(),
		cpu.Seconds(), float64(n)/cpu.Seconds(), allocs, allocBytes, peakRSS(), steal)
	return nil
}

// cpuTime is the CPU time (user and system) the process has used so far:
// on a shared machine it measures the work, where wall time also measures
// the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func decodeStdlib(files []string) (int, error) {
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return n, err
		}
		var doc struct {
			Records []cloudtrail.Event `json:"Records"`
		}
		err = json.NewDecoder(bufio.NewReader(fh)).Decode(&doc)
		fh.Close()
		if err != nil {
			return n, fmt.Errorf("%s: %w", f, err)
		}
		n += len(doc.Records)
	}
	return n, nil
}

func decodeReader(files []string) (int, error) {
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return n, err
		}
		r := cloudtrail.NewReader(fh)
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fh.Close()
				return n, fmt.Errorf("%s: %w", f, err)
			}
			n++
		}
		fh.Close()
	}
	return n, nil
}

// runFoundations is decode, order, attribute and baseline: the pipeline
// with empty catalogues, events observed without correlation.
func runFoundations(dir string) (int, error) {
	opts := pipeline.DefaultOptions()
	opts.Rules, opts.Bursts, opts.Policies = nil, nil, nil
	return replayDir(dir, opts, func(ctx context.Context, p *pipeline.Pipeline, s *replay.Stream) (int, error) {
		n := 0
		for {
			ev, err := s.Next()
			if errors.Is(err, io.EOF) {
				return n, p.Flush(ctx)
			}
			if err != nil {
				return n, err
			}
			if _, err := p.Observe(ctx, ev); err != nil {
				return n, err
			}
			// As Run does: the pipeline keeps no *Event.
			s.Recycle(ev)
			n++
		}
	})
}

// incidentsOut is where the pipeline phase writes its incidents, if set.
var incidentsOut string

// runPipeline is the whole pipeline as the CLI runs it.
func runPipeline(dir string) (int, error) {
	return replayDir(dir, pipeline.DefaultOptions(), func(ctx context.Context, p *pipeline.Pipeline, s *replay.Stream) (int, error) {
		res, err := p.Run(ctx, s, nil)
		if err == nil && incidentsOut != "" {
			err = writeIncidents(incidentsOut, res)
		}
		return res.Events, err
	})
}

// writeIncidents writes a run's counts and incidents as JSON lines.
func writeIncidents(path string, res pipeline.RunResult) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	if err := enc.Encode(map[string]int{"events": res.Events, "signals": res.Signals, "identities": res.Identities, "incidents": len(res.Incidents)}); err != nil {
		f.Close()
		return err
	}
	for _, inc := range res.Incidents {
		if err := enc.Encode(inc); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// replayDir opens the corpus as a replay stream and runs a pipeline with
// opts over an in-memory store on it.
func replayDir(dir string, opts pipeline.Options, run func(context.Context, *pipeline.Pipeline, *replay.Stream) (int, error)) (int, error) {
	p, err := pipeline.New(memstore.New(), opts, nil)
	if err != nil {
		return 0, err
	}
	s, err := replay.Open([]string{dir}, replay.Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return run(context.Background(), p, s)
}

// stolen reads the machine's CPU ticks from /proc/stat: those the
// hypervisor gave to other guests (steal) and all of them. Steal is the
// one sign of a noisy neighbour a guest can see; a rate measured while it
// is high is the neighbour's, not the code's. Both are 0 off Linux.
func stolen() (steal, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0
	}
	// user nice system idle iowait irq softirq steal; the guest fields
	// after them are already counted in user time.
	for _, f := range fields[1:9] {
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
	}
	steal, _ = strconv.ParseUint(fields[8], 10, 64)
	return steal, total
}

// cpuModel names the processor, from /proc/cpuinfo: rates from different
// sessions compare only on the same model.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			_, name, _ = strings.Cut(name, ":")
			return strings.TrimSpace(name)
		}
	}
	return runtime.GOARCH
}

// peakRSS reads the process's high-water resident set size.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%d MiB", kb/1024)
		}
	}
	return "n/a"
}

// generate writes the corpus unless a complete one is already there.
func generate(sources []string, dir string, events, perFile, identities int) error {
	marker := filepath.Join(dir, ".complete")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	base, err := loadBase(sources)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	var buf bytes.Buffer
	file, inFile := 0, 0
	flush := func() error {
		if inFile == 0 {
			return nil
		}
		buf.WriteString("]}")
		name := filepath.Join(dir, fmt.Sprintf("111122223333_CloudTrail_us-east-1_%06d.json", file))
		file++
		inFile = 0
		err := os.WriteFile(name, buf.Bytes(), 0o644)
		buf.Reset()
		return err
	}
	origin := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	span := base[len(base)-1].time.Sub(base[0].time) + time.Hour
	for i := 0; i < events; i++ {
		copyN, rec := i/len(base), base[i%len(base)]
		if inFile == 0 {
			buf.WriteString(`{"Records":[`)
		} else {
			buf.WriteByte(',')
		}
		shift := origin.Add(time.Duration(copyN) * span).Sub(base[0].time)
		buf.Write(rec.render(copyN, copyN%identities, shift))
		inFile++
		if inFile == perFile {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generated %d events in %d files in %s\n", events, file, time.Since(start).Round(time.Millisecond))
	return os.WriteFile(marker, nil, 0o644)
}

// baseRecord is one dataset record, split around the values each copy changes.
type baseRecord struct {
	time time.Time
	raw  string
}

// render writes the record for copy n: event id and time changed, user and
// role names and access keys suffixed by the identity group.
func (b baseRecord) render(n, group int, shift time.Duration) []byte {
	g := strconv.Itoa(group)
	s := b.raw
	s = strings.ReplaceAll(s, "user/", "user/g"+g+"-")
	s = strings.ReplaceAll(s, `"userName":"`, `"userName":"g`+g+"-")
	s = strings.ReplaceAll(s, "assumed-role/", "assumed-role/g"+g+"-")
	s = strings.ReplaceAll(s, `"ASIA`, `"ASIA`+g+"X")
	s = strings.Replace(s, `"eventID":"`, `"eventID":"c`+strconv.Itoa(n)+"-", 1)
	s = strings.Replace(s, `"eventTime":"`+b.time.Format(time.RFC3339)+`"`, `"eventTime":"`+b.time.Add(shift).Format(time.RFC3339)+`"`, 1)
	return []byte(s)
}

func loadBase(files []string) ([]baseRecord, error) {
	if len(files) == 0 {
		return nil, errors.New("no source files for the corpus (set TRAILHOUND_DATASETS, or run from the repository root)")
	}
	var base []baseRecord
	for _, f := range files {
		data, err := readMaybeGzip(f)
		if err != nil {
			return nil, err
		}
		r := cloudtrail.NewReader(bytes.NewReader(data))
		raws, err := rawRecords(f, data)
		if err != nil {
			return nil, err
		}
		i := 0
		for {
			ev, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			base = append(base, baseRecord{time: ev.EventTime, raw: raws[i]})
			i++
		}
	}
	sort.SliceStable(base, func(i, j int) bool { return base[i].time.Before(base[j].time) })
	return base, nil
}

// rawRecords returns a file's records re-encoded compactly (one line each,
// keys as written), so that render can edit them as text.
func rawRecords(path string, b []byte) ([]string, error) {
	var err error
	var doc struct {
		Records []json.RawMessage `json:"Records"`
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		err = json.Unmarshal(b, &list)
	} else {
		err = json.Unmarshal(b, &doc)
		list = doc.Records
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]string, len(list))
	for i, r := range list {
		var c bytes.Buffer
		if err := json.Compact(&c, r); err != nil {
			return nil, err
		}
		out[i] = c.String()
	}
	return out, nil
}

// readMaybeGzip reads a file, decompressing it when it is gzip.
func readMaybeGzip(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
