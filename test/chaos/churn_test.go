package chaos

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// arrivals records when each backend received requests.
type arrivals struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (a *arrivals) backend(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		a.at[name] = append(a.at[name], time.Now())
		a.mu.Unlock()
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

// change is one EndpointSlice rewrite: when, and which backends it lists.
type change struct {
	at  time.Time
	set []string
}

// TestEndpointChurnSendsNothingToARemovedEndpoint rewrites the Service's
// EndpointSlices every 100 ms with a random non-empty subset of four live
// backends while 300 requests/s flow: no request fails, and a backend that
// was removed receives requests only until the change is applied: the
// figure is the longest time from writing a removal to that backend's last
// request before it was listed again.
func TestEndpointChurnSendsNothingToARemovedEndpoint(t *testing.T) {
	arr := &arrivals{at: map[string][]time.Time{}}
	names := []string{"a", "b", "c", "d"}
	ports := map[string]string{}
	for _, n := range names {
		ports[n] = portOf(arr.backend(t, n).URL)
	}
	dir := t.TempDir()
	writeFile(t, dir, "api.yaml", serviceFixture)
	slices := func(set []string) string {
		var ps []string
		for _, n := range set {
			ps = append(ps, ports[n])
		}
		return endpointSlice(ps...)
	}
	writeFile(t, dir, "endpoints.yaml", slices(names))
	g := harness.StartGateway(t, harness.GatewayConfig{Args: []string{"standalone", "-f", dir}})

	var load tally
	done := make(chan struct{})
	go func() {
		defer close(done)
		attack(&load, 300, 8*time.Second, nil, nil,
			target{name: "get", method: "GET", url: "http://" + g.HTTP + "/prod/pets", header: hostHeader(host), judge: want(200)})
	}()
	changes := []change{{at: time.Now(), set: names}}
	rng := rand.New(rand.NewPCG(1, 2))
	for tick := time.NewTicker(100 * time.Millisecond); ; {
		select {
		case <-done:
			tick.Stop()
			load.check(t, "endpoint churn every 100 ms at 300 rps")
			checkChurn(t, arr, changes, names)
			return
		case <-tick.C:
			var set []string
			for len(set) == 0 {
				set = nil
				for _, n := range names {
					if rng.IntN(2) == 0 {
						set = append(set, n)
					}
				}
			}
			writeFile(t, dir, "endpoints.yaml", slices(set))
			changes = append(changes, change{at: time.Now(), set: set})
		}
	}
}

// checkChurn measures, for every request a backend received while the last
// written EndpointSlices did not list it, how long ago it had been removed.
func checkChurn(t *testing.T, arr *arrivals, changes []change, names []string) {
	t.Helper()
	arr.mu.Lock()
	defer arr.mu.Unlock()
	var worst time.Duration
	stale := 0
	for _, n := range names {
		for _, at := range arr.at[n] {
			i, _ := slices.BinarySearchFunc(changes, at, func(c change, x time.Time) int { return c.at.Compare(x) })
			cur := changes[max(i-1, 0)]
			if slices.Contains(cur.set, n) {
				continue
			}
			removed := cur.at // walk back to the write that removed n
			for j := max(i-1, 0); j >= 0 && !slices.Contains(changes[j].set, n); j-- {
				removed = changes[j].at
			}
			stale++
			worst = max(worst, at.Sub(removed))
		}
	}
	t.Logf("endpoint churn: %d EndpointSlice rewrites; %d requests reached a backend after the write that removed it, the last %v after that write",
		len(changes)-1, stale, worst.Round(time.Millisecond))
	// Standalone mode sees a change within a second (docs/standalone.md),
	// plus slack for a loaded machine.
	if worst > 1500*time.Millisecond {
		t.Errorf("a removed endpoint got requests %v after its removal was written, want under 1.5 s", worst)
	}
}
