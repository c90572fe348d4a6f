package chaos

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/turnpike-io/turnpike/controllers/standalone"
	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

const mockFixture = apiAndStage + `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: pets, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /pets
  integration: {type: MOCK, mock: {body: BODY}}
`

// extraRoute makes the second table's router differ in shape too.
const extraRoute = `---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: other, namespace: shop}
spec:
  apiName: pets
  routeKey: ANY /other/{proxy+}
  integration: {type: MOCK, mock: {body: other}}
`

// translated loads YAML the way standalone mode does and translates it.
func translated(t *testing.T, y string) *table.Table {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, errs, err := standalone.Load(dir, logr.Discard())
	if err != nil || len(errs) > 0 {
		t.Fatalf("load: %v %v", err, errs)
	}
	res := translate.Translate(snap, translate.Options{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return res.Table
}

// TestHundredTableSwapsASecondUnderLoad swaps the dataplane's table 100
// times a second between two translations of the same Api (the route's
// answer differs, the second has one more route) while 1,000 requests/s
// flow over real sockets: every request gets one whole table's answer and
// none fails. The server runs in this process: from outside, a file or an
// API write is the fastest way to swap, and both modes coalesce bursts
// (100 ms), so 100 swaps a second can only be driven here.
func TestHundredTableSwapsASecondUnderLoad(t *testing.T) {
	tables := [2]*table.Table{
		translated(t, strings.Replace(mockFixture, "BODY", "table-A", 1)),
		translated(t, strings.Replace(mockFixture, "BODY", "table-B", 1)+extraRoute),
	}
	s := dataplane.NewServer(dataplane.Options{Logger: logr.Discard()})
	s.Swap(tables[0])
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx, dataplane.Listeners{HTTP: ln}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("dataplane run: %v", err)
		}
	})

	var swaps atomic.Int64
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				s.Swap(tables[i%2])
				swaps.Add(1)
			}
		}
	}()
	var load tally
	start := time.Now()
	attack(&load, 1000, 5*time.Second, nil, nil, target{name: "pets", method: "GET", url: "http://" + ln.Addr().String() + "/prod/pets",
		header: hostHeader(host), judge: func(r *vegeta.Result) string {
			if why := want(200)(r); why != "" {
				return why
			}
			if b := string(r.Body); b != "table-A" && b != "table-B" {
				return "body " + b
			}
			return ""
		}})
	close(stop)
	rate := float64(swaps.Load()) / time.Since(start).Seconds()
	load.check(t, "table swaps under 1,000 rps")
	t.Logf("table swaps: %d in %v (%.0f/s)", swaps.Load(), time.Since(start).Round(time.Millisecond), rate)
	if rate < 90 {
		t.Errorf("only %.0f swaps/s", rate)
	}
}
