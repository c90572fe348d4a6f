package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// target is one system under test as the load generators address it.
type target struct {
	name   string
	url    string
	header map[string]string // includes "Host" when the system needs one
}

// headerList returns the headers as wrk's "Name: value" arguments, sorted.
func (t target) headerList() []string {
	var l []string
	for k, v := range t.header {
		l = append(l, k+": "+v)
	}
	slices.Sort(l)
	return l
}

// openResult is one open-loop (fixed-rate) run.
type openResult struct {
	Rate        float64        `json:"rate"` // requests per second sent
	Throughput  float64        `json:"throughput"`
	Requests    uint64         `json:"requests"`
	Errors      uint64         `json:"errors"` // transport errors and non-2xx
	P50         time.Duration  `json:"p50"`
	P99         time.Duration  `json:"p99"`
	P999        time.Duration  `json:"p999"`
	Max         time.Duration  `json:"max"`
	Duration    time.Duration  `json:"duration"` // first to last request sent
	StatusCodes map[string]int `json:"status_codes"`
	ErrorList   []string       `json:"error_list,omitempty"`
}

// attack sends rate requests per second to t for d, open loop: requests leave
// on schedule whether or not earlier ones were answered, so queueing in the
// system under test shows up as latency. It stops by itself after d.
func attack(t target, rate int, d time.Duration) openResult {
	hdr := http.Header{}
	for k, v := range t.header {
		hdr.Set(k, v)
	}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: t.url, Header: hdr})
	st := newSyncTransport()
	defer st.CloseIdleConnections()
	a := vegeta.NewAttacker(vegeta.Client(&http.Client{Transport: st}),
		vegeta.Workers(32), vegeta.MaxWorkers(512), vegeta.Timeout(5*time.Second))
	var m vegeta.Metrics
	for res := range a.Attack(tr, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, d, t.name) {
		m.Add(res)
	}
	m.Close()
	r := openResult{
		Rate: m.Rate, Throughput: m.Throughput, Requests: m.Requests,
		P50: m.Latencies.P50, P99: m.Latencies.P99, P999: m.Latencies.Quantile(0.999),
		Max: m.Latencies.Max, Duration: m.Duration, StatusCodes: m.StatusCodes, ErrorList: firstN(m.Errors, 5),
	}
	for code, n := range m.StatusCodes {
		if !strings.HasPrefix(code, "2") {
			r.Errors += uint64(n)
		}
	}
	return r
}

// firstN returns at most n elements of l.
func firstN(l []string, n int) []string {
	if len(l) > n {
		return l[:n]
	}
	return l
}

// attackMain is `bench attack -url U -rate R -d D [-host H]`: one open-loop
// run printed as JSON, to debug the generator by hand.
func attackMain(args []string) error {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	url := fs.String("url", "", "target URL (loopback)")
	host := fs.String("host", "", "Host header")
	rate := fs.Int("rate", 1000, "requests per second")
	d := fs.Duration("d", 5*time.Second, "duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t := target{name: "attack", url: *url, header: map[string]string{}}
	if *host != "" {
		t.header["Host"] = *host
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(attack(t, *rate, *d))
}
