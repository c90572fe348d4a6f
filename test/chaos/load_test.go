// Package chaos runs the built turnpike binary under load while something
// fails: the gateway's own shutdown, the API server, Redis, backend
// endpoints, table swaps (issue 17, reliability checklist §3–§4). Each test
// reports requests sent, failed and the worst latency. They run with
// `make chaos` (TURNPIKE_CHAOS=1), which CI runs after `make test`; without
// it they are skipped.
package chaos

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/turnpike-io/turnpike/test/harness"
)

func TestMain(m *testing.M) {
	if os.Getenv("TURNPIKE_CHAOS") == "" {
		fmt.Println("chaos tests skipped: run them with `make chaos` (TURNPIKE_CHAOS=1)")
		os.Exit(0)
	}
	code := m.Run()
	harness.RemoveBuilt()
	os.Exit(code)
}

// host is the default endpoint of the fixtures' Api.
const host = "pets.shop.execute-api.localhost"

// apiAndStage starts every standalone fixture: the Api pets and its stage
// prod in namespace shop.
const apiAndStage = `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec: {apiName: pets}
---
`

// tally counts the results of an attack. judge decides per result: "" is a
// success, anything else the failure's description.
type tally struct {
	mu       sync.Mutex
	sent     int
	failed   int
	resets   int
	worst    time.Duration
	codes    map[int]int
	failures []string
	byTarget map[string]map[int]int
}

func (t *tally) add(r *vegeta.Result, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codes == nil {
		t.codes, t.byTarget = map[int]int{}, map[string]map[int]int{}
	}
	t.sent++
	t.codes[int(r.Code)]++
	if t.byTarget[r.Attack] == nil {
		t.byTarget[r.Attack] = map[int]int{}
	}
	t.byTarget[r.Attack][int(r.Code)]++
	t.worst = max(t.worst, r.Latency)
	if r.Error != "" && (strings.Contains(r.Error, "reset") || strings.Contains(r.Error, "EOF") || strings.Contains(r.Error, "broken pipe")) {
		t.resets++
	}
	if why != "" {
		t.failed++
		if len(t.failures) < 5 {
			t.failures = append(t.failures, fmt.Sprintf("%s at %s: %s", r.URL, r.Timestamp.Format("15:04:05.000"), why))
		}
	}
}

// String is the figure for the closing note.
func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	codes := make([]int, 0, len(t.codes))
	for c := range t.codes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", t.codes[c], c))
	}
	return fmt.Sprintf("%d sent, %d failed, %d reset, worst latency %v (%s)", t.sent, t.failed, t.resets,
		t.worst.Round(time.Millisecond), strings.Join(parts, " "))
}

// check fails the test when a request failed.
func (t *tally) check(tb testing.TB, what string) {
	tb.Helper()
	tb.Logf("%s: %s", what, t)
	if t.failed > 0 || t.resets > 0 {
		tb.Errorf("%s: %d failed, %d reset; first: %q", what, t.failed, t.resets, t.failures)
	}
}

// target is one request of a mixed attack, with its own judge; the targets
// of one attack have distinct URLs.
type target struct {
	name   string
	method string
	url    string
	header http.Header
	judge  func(r *vegeta.Result) string
}

// attack sends targets round robin at rate per second until stop is closed
// or dur passed, judging every result into t.
func attack(t *tally, rate int, dur time.Duration, stop <-chan struct{}, client *http.Client, targets ...target) {
	i := 0
	var mu sync.Mutex
	tr := func(tgt *vegeta.Target) error {
		mu.Lock()
		defer mu.Unlock()
		x := targets[i%len(targets)]
		i++
		*tgt = vegeta.Target{Method: x.method, URL: x.url, Header: x.header.Clone()}
		return nil
	}
	opts := []func(*vegeta.Attacker){vegeta.Timeout(10 * time.Second), vegeta.KeepAlive(true), vegeta.MaxWorkers(512)}
	if client != nil {
		opts = append(opts, vegeta.Client(client))
	}
	a := vegeta.NewAttacker(opts...)
	go func() {
		select {
		case <-stop:
			a.Stop()
		case <-time.After(dur + time.Second):
		}
	}()
	for r := range a.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, dur, "") {
		judge := judgeOf(targets, r)
		r.Attack = targetName(targets, r)
		t.add(r, judge(r))
	}
}

// targetName finds the target a result belongs to by its URL (targets of
// one attack have distinct URLs).
func targetName(targets []target, r *vegeta.Result) string {
	for _, x := range targets {
		if x.url == r.URL {
			return x.name
		}
	}
	return r.URL
}

func judgeOf(targets []target, r *vegeta.Result) func(*vegeta.Result) string {
	for _, x := range targets {
		if x.url == r.URL {
			return x.judge
		}
	}
	return want(200)
}

// want judges a result good when it has one of codes and no error.
func want(codes ...int) func(*vegeta.Result) string {
	return func(r *vegeta.Result) string {
		if r.Code == 0 { // no response (vegeta also sets Error for any non-2xx)
			return r.Error
		}
		if !slices.Contains(codes, int(r.Code)) {
			return fmt.Sprintf("status %d %q, want %v", r.Code, r.Body, codes)
		}
		return ""
	}
}

func hostHeader(h string, kv ...string) http.Header {
	out := http.Header{"Host": {h}}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// writeFile replaces dir/name atomically, as an editor or a sync would.
func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}
