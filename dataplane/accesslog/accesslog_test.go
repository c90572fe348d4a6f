package accesslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

func TestEntriesAreWrittenAsJSONLinesWithAWSContextNames(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, 4)
	l.Log(Entry{Context: reqctx.Context{RequestID: "r1", HTTPMethod: "GET", Status: 404, ErrorHint: "no stage <x>", AccountID: "shop", APIID: "pets"}})
	l.Log(Entry{Context: reqctx.Context{RequestID: "r2", ResponseLatency: 7 * time.Millisecond}})
	l.Close()

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"requestId", "ip", "requestTime", "httpMethod", "routeKey", "path", "status",
		"protocol", "responseLength", "responseLatency", "integrationLatency", "integrationStatus",
		"errorMessage", "errorHint", "stage", "domainName", "api"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing in %s", k, lines[0])
		}
	}
	if m["errorHint"] != "no stage <x>" || m["status"] != float64(404) || m["api"] != "shop/pets" {
		t.Errorf("unexpected values: %s", lines[0])
	}
	if !strings.Contains(lines[1], `"requestId":"r2"`) {
		t.Errorf("second line out of order: %s", lines[1])
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestASlowWriterDropsEntriesInsteadOfBlocking(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	l := New(w, 2)
	const n = 100
	for i := 0; i < n; i++ {
		l.Log(Entry{Context: reqctx.Context{RequestID: "x"}}) // must return although the writer is stuck
	}
	if l.Dropped() == 0 {
		t.Fatal("expected drops while the writer is blocked")
	}
	close(w.release)
	l.Close()
	written := 0
	sc := bufio.NewScanner(&w.buf)
	for sc.Scan() {
		written++
	}
	if got := uint64(written) + l.Dropped(); got != n {
		t.Fatalf("written %d + dropped %d != %d", written, l.Dropped(), n)
	}
}

func TestLogAfterCloseIsCountedAsDropped(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, 1)
	l.Close()
	l.Close()
	l.Log(Entry{})
	if l.Dropped() != 1 || buf.Len() != 0 {
		t.Fatalf("dropped=%d written=%q", l.Dropped(), buf.String())
	}
}

func TestNilLoggerDiscards(t *testing.T) {
	var l *Logger
	l.Log(Entry{})
	l.Close()
	if l.Dropped() != 0 {
		t.Fatal("nil logger counted a drop")
	}
}
