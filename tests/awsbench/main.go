// Command awsbench measures what the serverless path costs per event: it
// delivers a scenario (the demo's six days of an organisation by default)
// event by event through the detector handler over DynamoDB, and runs the
// correlator handler every minute of event time, publishing to an
// EventBridge bus, all against the AWS emulator (make bench starts it). An
// SDK middleware counts every call. The scenario is delivered five times,
// a week apart; four weeks warm up (the identities learn their baselines,
// and the monthly touches of last-seen times fall in the fifth), the fifth
// is measured: it reports
// DynamoDB reads and writes per event, EventBridge calls per incident, the
// handler's CPU time per event (on one core, network waits excluded since
// they cost no CPU), the bytes it logs, and from those and AWS's published
// prices the cost per million events next to GuardDuty's.
//
// One process is one warm Lambda instance: its caches are as warm as they
// get. Several concurrent instances each warm their own.
//
// The SDK reaches the emulator through a keep-alive proxy in a child
// process: moto's server closes the connection after every response, so
// each call would pay for a TCP connection (dial, close, their system
// calls: about 1.2 ms of CPU a call here) that a Lambda function keeps
// open to AWS. The child's CPU is not the handler's. What this leaves
// out is TLS: AWS is HTTPS, and encrypting a request and its response
// costs microseconds once the connection is up.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailhound/trailhound/shared/awstest"
	"github.com/trailhound/trailhound/shared/cloudtrail"
	"github.com/trailhound/trailhound/shared/handler"
	"github.com/trailhound/trailhound/shared/incident"
	"github.com/trailhound/trailhound/shared/pipeline"
	"github.com/trailhound/trailhound/shared/publish"
	"github.com/trailhound/trailhound/shared/replay"
	"github.com/trailhound/trailhound/shared/store"
	"github.com/trailhound/trailhound/shared/store/dynamostore"
	"github.com/trailhound/trailhound/shared/store/memstore"
)

// Published prices, us-east-1, as of 2026 (aws.amazon.com/lambda/pricing,
// /dynamodb/pricing/on-demand, /eventbridge/pricing, /cloudwatch/pricing,
// /guardduty/pricing).
const (
	lambdaPerRequest  = 0.20 / 1e6   // $ per invocation
	lambdaArmPerGBs   = 0.0000133334 // $ per GB-second, arm64
	lambdaMemoryMB    = 256.0        // the detector's memory (infra/stacks)
	lambdaMemoryGB    = lambdaMemoryMB / 1024
	lambdaFullCoreMB  = 1769.0               // Lambda gives a whole vCPU at this much memory, a share below
	ddbPerWRU         = 0.625 / 1e6          // $ per write request unit, on demand
	ddbPerRRU         = 0.125 / 1e6          // $ per read request unit, on demand
	ebCrossAccount    = 1.00 / 1e6           // $ per management event delivered to the security account's bus
	ebPerCustomEvent  = 1.00 / 1e6           // $ per PutEvents entry (64 KB chunk)
	logsPerGB         = 0.50                 // $ per GB ingested (standard class)
	guardDutyPerEvent = 4.00 / 1e6           // $ per CloudTrail management event analysed
	ddbLatency        = 4 * time.Millisecond // assumed in-region latency of one DynamoDB call
	minuteInvocations = 60 * 24 * 30         // the correlator's scheduled runs a month
)

func main() {
	dir := flag.String("events", "events/demo", "the scenario to deliver")
	weeks := flag.Int("weeks", 5, "deliver the scenario this many times, a week apart (new event ids and keys); the last week is measured, the others warm up")
	proxyTo := flag.String("proxy", "", "internal: serve as a keep-alive proxy to this endpoint")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	log.SetFlags(0)
	if *proxyTo != "" {
		log.Fatal("awsbench proxy: ", proxy(*proxyTo))
	}
	runtime.GOMAXPROCS(1)
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		log.Fatal("awsbench: no AWS emulator (AWS_ENDPOINT_URL unset): run it through tests/emulator/with-moto, as make bench does")
	}
	endpoint, stop, err := keepAlive(endpoint)
	if err != nil {
		log.Fatal("awsbench: ", err)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal("awsbench: ", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal("awsbench: ", err)
		}
	}
	err = run(*dir, *weeks, endpoint)
	pprof.StopCPUProfile() // nothing when not profiling
	stop()
	if err != nil {
		log.Fatal("awsbench: ", err)
	}
}

// keepAlive starts this program again as a keep-alive proxy to the
// emulator and returns the proxy's address, and a function that stops it.
func keepAlive(endpoint string) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "-proxy", endpoint)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the proxy ends when it closes
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("keep-alive proxy: %w", err)
	}
	return strings.TrimSpace(addr), stop, nil
}

// proxy serves the endpoint on a loopback port, printed on stdout, until
// stdin closes.
func proxy(endpoint string) error {
	target, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	return http.Serve(ln, rp)
}

// delivery is one CloudTrail event in its EventBridge envelope.
type delivery struct {
	ev      *cloudtrail.Event
	payload []byte
}

func load(dir string, weeks int) ([]delivery, error) {
	s, err := replay.Open([]string{dir}, replay.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []delivery
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for w := range weeks {
			d, err := shifted(ev, w)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
}

// shifted returns the delivery of ev as it would be w weeks later: new
// event id, times shifted, temporary keys renamed (their issuing events'
// expiry is not shifted, so the ledger keeps them for its default lifetime).
func shifted(orig *cloudtrail.Event, w int) (delivery, error) {
	ev := *orig
	if w > 0 {
		ev.EventID = fmt.Sprintf("%s-w%d", ev.EventID, w)
		ev.EventTime = ev.EventTime.Add(time.Duration(w) * 7 * 24 * time.Hour)
	}
	raw, err := json.Marshal(&ev)
	if err != nil {
		return delivery{}, err
	}
	if w > 0 {
		raw = bytes.ReplaceAll(raw, []byte(`"ASIA`), []byte(fmt.Sprintf(`"ASIA%d`, w)))
		if ev, err = cloudtrail.Decode(raw); err != nil {
			return delivery{}, err
		}
	}
	env, err := awstest.Envelope(&ev, raw)
	return delivery{&ev, env}, err
}

// meter counts AWS calls and estimates DynamoDB request units from the
// requests themselves: a write costs one unit per KB of item, once for the
// table and once for each index the item is in; an eventually consistent
// read half a unit per 4 KB returned. The calls themselves are counted
// by awstest.Calls.
type meter struct {
	*awstest.Calls
	mu sync.Mutex
	// units are the request units per phase ("detector", "correlator")
	// and kind of item written ("write KEY#", …).
	units map[string]float64
	phase string
}

func newMeter() *meter { return &meter{Calls: awstest.NewCalls(), units: map[string]float64{}} }

func (m *meter) reset() {
	m.Calls.Reset()
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.units)
}

// in sets the phase the next calls are counted in.
func (m *meter) in(phase string) {
	m.mu.Lock()
	m.phase = phase
	m.mu.Unlock()
}

// itemKind names the kind of item by its key: "KEY#", "SIG#", "SIGHOURS"…
func itemKind(key map[string]types.AttributeValue) string {
	pk, _ := key[dynamostore.AttrPK].(*types.AttributeValueMemberS)
	if pk == nil {
		return "?"
	}
	if i := strings.IndexByte(pk.Value, '#'); i >= 0 {
		kind := pk.Value[:i+1]
		if sk, _ := key[dynamostore.AttrSK].(*types.AttributeValueMemberS); sk != nil && kind == "PROF#" {
			if j := strings.IndexByte(sk.Value, '#'); j >= 0 {
				return kind + sk.Value[:j+1]
			}
			return kind + sk.Value
		}
		return kind
	}
	return pk.Value
}

func (m *meter) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awsbench-meter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			m.mu.Lock()
			defer m.mu.Unlock()
			switch p := in.Parameters.(type) {
			case *dynamodb.PutItemInput:
				m.units[m.phase+" wru"] += math.Ceil(float64(itemSize(p.Item))/1024) * float64(1+indexes(p.Item))
				m.units[m.phase+" write "+itemKind(p.Item)]++
			case *dynamodb.UpdateItemInput:
				m.units[m.phase+" wru"]++
				m.units[m.phase+" write "+itemKind(p.Key)]++
			}
			switch r := out.Result.(type) {
			case *dynamodb.GetItemOutput:
				m.units[m.phase+" rru"] += 0.5 * math.Max(1, math.Ceil(float64(itemSize(r.Item))/4096))
			case *dynamodb.QueryOutput:
				size := 0
				for _, it := range r.Items {
					size += itemSize(it)
				}
				m.units[m.phase+" rru"] += 0.5 * math.Max(1, math.Ceil(float64(size)/4096))
			}
			return out, md, err
		}), middleware.After)
}

func indexes(it map[string]types.AttributeValue) int {
	n := 0
	for _, a := range []string{dynamostore.AttrGSI1PK, dynamostore.AttrGSI2PK, dynamostore.AttrGSI3PK} {
		if _, ok := it[a]; ok {
			n++
		}
	}
	return n
}

// itemSize approximates DynamoDB's item size: names plus values.
func itemSize(it map[string]types.AttributeValue) int {
	n := 0
	for k, v := range it {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)/2 + 1
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n += 8
		}
	}
	return n
}

// countingWriter counts the bytes the functions log.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// countingPublisher counts the incident versions published.
type countingPublisher struct {
	*publish.Publisher
	incidents int
}

func (p *countingPublisher) Publish(ctx context.Context, incs []incident.Incident) ([]incident.Incident, error) {
	p.incidents += len(incs)
	return p.Publisher.Publish(ctx, incs)
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(dir string, weeks int, endpoint string) error {
	ctx := context.Background()
	if weeks < 2 {
		return fmt.Errorf("-weeks %d: at least 2 (one to warm up, one to measure)", weeks)
	}
	ds, err := load(dir, weeks)
	if err != nil {
		return err
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].ev.EventTime.Before(ds[j].ev.EventTime) })
	if len(ds) < 100 {
		return fmt.Errorf("%s: %d events, too few to measure", dir, len(ds))
	}
	first, last := ds[0].ev.EventTime, ds[len(ds)-1].ev.EventTime
	measureFrom := ds[0].ev.EventTime.Add(time.Duration(weeks-1) * 7 * 24 * time.Hour)

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	m := newMeter()
	m.in("detector")
	cfg.APIOptions = append(cfg.APIOptions, m.Count, m.option)
	ddb := dynamodb.NewFromConfig(cfg)
	table := fmt.Sprintf("trailhound-bench-%d", time.Now().UnixNano())
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		return err
	}
	eb := eventbridge.NewFromConfig(cfg)
	bus := table
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		return err
	}

	var logged countingWriter
	logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p, err := pipeline.New(dynamostore.New(ddb, table), pipeline.DefaultOptions(), logger)
	if err != nil {
		return err
	}
	pub := &countingPublisher{Publisher: publish.New(eb, bus, logger)}
	var now time.Time
	detector := lambda.NewHandler(handler.NewDetector(p, logger).Handle)
	correlator := lambda.NewHandler(handler.NewCorrelator(p, pub, func() time.Time { return now }, logger).Handle)
	tick := []byte(`{"version":"0","id":"tick","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)

	fmt.Fprintf(os.Stderr, "awsbench: delivering %d events of %s (%s to %s) through the detector over the emulator's DynamoDB; measuring from %s\n",
		len(ds), dir, first.Format(time.DateOnly), last.Format(time.DateOnly), measureFrom.Format(time.RFC3339))
	var (
		measuring            bool
		events, correlations int
		detectorCPU, corrCPU time.Duration
		billedMS             float64
		ddbDetector          int
		signals              int
		start                = time.Now()
		next                 time.Time
		loggedAtStart        int64
		publishedAtStart     int
		detectorCalls        = map[string]int{}
	)
	correlate := func(at time.Time) error {
		now = at
		m.in("correlator")
		defer m.in("detector")
		c0 := cpu()
		if _, err := correlator.Invoke(ctx, tick); err != nil {
			return fmt.Errorf("correlator at %s: %w", at, err)
		}
		if measuring {
			corrCPU += cpu() - c0
			correlations++
		}
		return nil
	}
	for _, d := range ds {
		ev := d.ev
		if !measuring && !ev.EventTime.Before(measureFrom) {
			measuring = true
			m.reset()
			loggedAtStart, publishedAtStart = logged.n, pub.incidents
		}
		if !next.IsZero() && !ev.EventTime.Before(next) {
			if err := correlate(next); err != nil {
				return err
			}
		}
		if next.IsZero() || !ev.EventTime.Before(next) {
			next = ev.EventTime.Add(pipeline.CorrelateEvery)
		}
		before := m.Snapshot()
		c0 := cpu()
		if _, err := detector.Invoke(ctx, d.payload); err != nil {
			return fmt.Errorf("detector on %s: %w", ev.EventID, err)
		}
		spent := cpu() - c0
		if measuring {
			events++
			detectorCPU += spent
			n := 0
			for op, v := range m.Snapshot() {
				if d := v - before[op]; d > 0 {
					detectorCalls[op] += d
					n += d
				}
			}
			ddbDetector += n
			wall := time.Duration(float64(spent)*lambdaFullCoreMB/lambdaMemoryMB) + time.Duration(n)*ddbLatency
			billedMS += math.Ceil(max(1, float64(wall)/float64(time.Millisecond)))
		}
	}
	if err := correlate(last.Add(time.Second)); err != nil {
		return err
	}
	sigs, err := dynamostore.New(ddb, table).Signals(ctx, store.SignalQuery{Since: measureFrom})
	if err != nil {
		return err
	}
	signals = len(sigs)
	calls := m.Snapshot()
	published := pub.incidents - publishedAtStart

	// Pure compute: the same handler over an in-memory store, no SDK.
	pureCPU, pureEvents, err := pureCompute(ds, measureFrom)
	if err != nil {
		return err
	}

	reads, writes := 0, 0
	for op, n := range detectorCalls {
		switch {
		case strings.HasSuffix(op, ":GetItem"), strings.HasSuffix(op, ":Query"), strings.HasSuffix(op, ":BatchGetItem"):
			reads += n
		case strings.HasPrefix(op, "DynamoDB:"):
			writes += n
		}
	}
	ebCalls := calls["EventBridge:PutEvents"]
	fe := float64(events)
	fmt.Printf("\nServerless path, steady state: %d events of %s after the warm-up (%d signals, %d incident versions published), %s wall against moto\n\n",
		events, dir, signals, published, time.Since(start).Round(time.Second))
	fmt.Printf("| measure | per event | target |\n|---|---:|---:|\n")
	fmt.Printf("| DynamoDB reads (GetItem, Query) by the detector | %.4f | ≤ 0.1 |\n", float64(reads)/fe)
	fmt.Printf("| DynamoDB writes (PutItem, UpdateItem) by the detector | %.4f | ≤ 0.05 |\n", float64(writes)/fe)
	fmt.Printf("| detector handler CPU, with the SDK's work (one core) | %s | < 200 µs |\n", (detectorCPU / time.Duration(events)).Round(time.Microsecond))
	fmt.Printf("| detector handler CPU over an in-memory store (no SDK) | %s | |\n", (pureCPU / time.Duration(pureEvents)).Round(time.Microsecond))
	fmt.Printf("| bytes logged (JSON, info level: signals, incidents, errors) | %.1f | |\n", float64(logged.n-loggedAtStart)/fe)
	if published > 0 {
		fmt.Printf("| EventBridge PutEvents calls per incident version published | %.2f | |\n", float64(ebCalls)/float64(published))
	}
	fmt.Printf("| correlator runs (every minute of event time), CPU per run | %d, %s | |\n", correlations, (corrCPU / time.Duration(max(1, correlations))).Round(time.Microsecond))
	fmt.Printf("\nAll calls after the warm-up (detector and correlator):\n")
	ops := make([]string, 0, len(calls))
	for op := range calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Printf("  %-28s %6d  (%.4f per event)\n", op, calls[op], float64(calls[op])/fe)
	}

	perM := 1e6 / fe
	m.mu.Lock()
	wru, rru := m.units["detector wru"], m.units["detector rru"]
	corrWRU, corrRRU := m.units["correlator wru"], m.units["correlator rru"]
	var kinds []string
	for k := range m.units {
		if strings.HasPrefix(k, "detector write ") {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	fmt.Printf("\nDetector writes by item:\n")
	for _, k := range kinds {
		fmt.Printf("  %-28s %6.0f  (%.4f per event)\n", strings.TrimPrefix(k, "detector write "), m.units[k], m.units[k]/fe)
	}
	m.mu.Unlock()
	lambdaReq := lambdaPerRequest * 1e6
	lambdaDur := billedMS * perM / 1000 * lambdaMemoryGB * lambdaArmPerGBs
	ddbCost := (wru*ddbPerWRU + rru*ddbPerRRU) * perM
	ebCost := ebCrossAccount*1e6 + float64(ebCalls)*perM*ebPerCustomEvent
	logsCost := float64(logged.n-loggedAtStart) * perM / 1e9 * logsPerGB
	total := lambdaReq + lambdaDur + ddbCost + ebCost + logsCost
	fmt.Printf("\nCost per million CloudTrail management events (us-east-1 list prices; %s, arm64, %d MB; DynamoDB on demand)\n\n", "Lambda", int(lambdaMemoryGB*1024))
	fmt.Printf("| item | basis | $ per million events |\n|---|---|---:|\n")
	fmt.Printf("| Lambda requests (detector) | 1 invocation per event, $0.20 per million | %.4f |\n", lambdaReq)
	fmt.Printf("| Lambda duration (detector) | %.2f ms billed per event on average (CPU at %d MB's share of a core + %s per DynamoDB call, 1 ms minimum) | %.4f |\n", billedMS/fe, int(lambdaMemoryMB), ddbLatency, lambdaDur)
	fmt.Printf("| DynamoDB on demand (detector) | %.3f WRU and %.3f RRU per event (writes counted once per index) | %.4f |\n", wru/fe, rru/fe, ddbCost)
	fmt.Printf("| EventBridge | $1.00 per million for cross-account delivery of management events, plus incident PutEvents | %.4f |\n", ebCost)
	fmt.Printf("| CloudWatch Logs | %.1f bytes per event at $0.50 per GB | %.4f |\n", float64(logged.n-loggedAtStart)/fe, logsCost)
	fmt.Printf("| **Trailhound** | | **%.2f** |\n", total)
	fmt.Printf("| GuardDuty (CloudTrail management event analysis) | $4.00 per million | %.2f |\n", guardDutyPerEvent*1e6)
	perRun := func(v float64) float64 { return v / float64(max(1, correlations)) }
	corrMonth := float64(minuteInvocations) * (lambdaPerRequest + math.Ceil(float64(corrCPU/time.Duration(max(1, correlations)))/1e6+8)/1000*lambdaMemoryGB*lambdaArmPerGBs +
		perRun(corrWRU)*ddbPerWRU + perRun(corrRRU)*ddbPerRRU)
	fmt.Printf("\nThe correlator's schedule costs the same whatever the traffic: %d runs a month at %.1f WRU and %.1f RRU a run, about $%.2f a month in requests, duration and DynamoDB.\n",
		minuteInvocations, perRun(corrWRU), perRun(corrRRU), corrMonth)
	return nil
}

// pureCompute delivers the same events to the detector handler over an
// in-memory store and returns the CPU time of the measured part.
func pureCompute(ds []delivery, measureFrom time.Time) (time.Duration, int, error) {
	ctx := context.Background()
	p, err := pipeline.New(memstore.New(), pipeline.DefaultOptions(), slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, 0, err
	}
	detector := lambda.NewHandler(handler.NewDetector(p, nil).Handle)
	var spent time.Duration
	n := 0
	for _, d := range ds {
		c0 := cpu()
		if _, err := detector.Invoke(ctx, d.payload); err != nil {
			return 0, 0, err
		}
		if !d.ev.EventTime.Before(measureFrom) {
			spent += cpu() - c0
			n++
		}
	}
	return spent, n, nil
}
