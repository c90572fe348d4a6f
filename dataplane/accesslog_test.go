package dataplane

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/accesslog"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// lockedBuffer is a bytes.Buffer safe for the log goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestEachStageWritesItsOwnAccessLogFormat(t *testing.T) {
	clf, err := reqctx.CompileAccessLog("clf")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := reqctx.CompileAccessLog(`$context.requestId|$context.stage|$context.routeKey|$context.status`)
	if err != nil {
		t.Fatal(err)
	}
	prod := stage("prod", mockRoute("GET /pets", 200, "pets"))
	prod.AccessLog = clf
	dev := stage("dev", mockRoute("GET /pets", 201, "dev"))
	dev.AccessLog = tmpl
	var out lockedBuffer
	s := NewServer(Options{Forwarder: &fakeForwarder{}, AccessLog: &out})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, prod, dev, stage("test", mockRoute("GET /pets", 200, "")))))
	idProd := do(s, "GET", "/prod/pets", nil).Header().Get("X-Request-Id")
	idDev := do(s, "GET", "/dev/pets", nil).Header().Get("X-Request-Id")
	idTest := do(s, "GET", "/test/pets", nil).Header().Get("X-Request-Id")
	s.Close()

	lines := strings.Split(strings.TrimSuffix(out.buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", out.buf.String())
	}
	if want := `192.0.2.1 - - [`; !strings.HasPrefix(lines[0], want) ||
		!strings.HasSuffix(lines[0], `] "GET GET /pets HTTP/1.1" 200 4 `+idProd) {
		t.Errorf("clf line: %s", lines[0])
	}
	if want := idDev + "|dev|GET /pets|201"; lines[1] != want {
		t.Errorf("template line: got %s, want %s", lines[1], want)
	}
	if !strings.HasPrefix(lines[2], `{"requestId":"`+idTest+`"`) {
		t.Errorf("a stage without a format writes JSON: %s", lines[2])
	}
}

// stuckWriter blocks every Write until release is closed.
type stuckWriter struct{ release chan struct{} }

func (w stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

func TestABlockedAccessLogWriterNeverBlocksRequests(t *testing.T) {
	w := stuckWriter{release: make(chan struct{})}
	reg := prometheus.NewPedanticRegistry()
	s := NewServer(Options{Forwarder: &fakeForwarder{}, AccessLog: w, Metrics: reg,
		GatewayThrottle: table.Throttle{RateLimit: 1 << 30, BurstLimit: 1 << 30}}) // measure the log, not the throttle
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", mockRoute("GET /pets", 200, "pets")))))

	const n = accesslog.DefaultBuffer + 2000 // more than the queue (and the writer's 64 KiB buffer) holds
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			if code := do(s, "GET", "/prod/pets", nil).Code; code != 200 {
				t.Errorf("status %d", code)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("requests are blocked behind the access log writer")
	}
	dropped := s.AccessLogDropped()
	if dropped < 1000 {
		t.Fatalf("want at least 1000 dropped lines, got %d", dropped)
	}
	if got := testutil.ToFloat64(gathered(t, reg, "turnpike_access_log_dropped_total")); got != float64(dropped) {
		t.Fatalf("metric says %v dropped, server says %d", got, dropped)
	}
	close(w.release)
	s.Close()
}

// gathered returns the collector of one metric family of reg, for testutil.
func gathered(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Error(err)
			return
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, "", nil, nil), prometheus.UntypedValue, mf.GetMetric()[0].GetCounter().GetValue())
			}
		}
	})
}
