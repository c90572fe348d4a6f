package function

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// fakeRIE behaves like the Runtime Interface Emulator where it matters
// here: one invocation at a time (a second concurrent one is counted as a
// crash and answered 500), the answer after delay(event).
type fakeRIE struct {
	srv     *httptest.Server
	running atomic.Int32
	crashes atomic.Int32
	served  atomic.Int32
	delay   func(event string) time.Duration
}

func newFakeRIE(t *testing.T, delay func(string) time.Duration) *fakeRIE {
	t.Helper()
	f := &fakeRIE{delay: delay}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != InvocationsPath || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if f.running.Add(1) > 1 {
			f.running.Add(-1)
			f.crashes.Add(1)
			http.Error(w, "ReserveFailed: AlreadyReserved", http.StatusInternalServerError)
			return
		}
		defer f.running.Add(-1)
		b, _ := io.ReadAll(r.Body)
		if f.delay != nil {
			time.Sleep(f.delay(string(b)))
		}
		f.served.Add(1)
		_, _ = w.Write([]byte(`{"statusCode":200,"body":` + strconv.Quote(string(b)) + `}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRIE) endpoint(t *testing.T) table.Endpoint {
	t.Helper()
	host, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return table.Endpoint{Address: host, Port: int32(p)}
}

var fn = &table.ServiceTarget{Namespace: "shop", Name: "pets-fn", Port: 8080, PortName: "rie"}

func newInvoker(t *testing.T, o Options, eps ...table.Endpoint) (*Invoker, *upstream.Store) {
	t.Helper()
	store := upstream.NewStore()
	store.Update(table.EndpointSets{fn.Key(): eps})
	o.Store = store
	return New(o), store
}

func invoke(v *Invoker, ctx context.Context, concurrency int, event string) (*Result, error) {
	return v.Invoke(ctx, &Invocation{Target: fn, Concurrency: concurrency, Event: []byte(event)})
}

// Twenty concurrent invocations to one RIE: all answered, none sent while
// another ran (the RIE would crash), queued in order.
func TestOneInvocationAtATimePerEndpoint(t *testing.T) {
	rie := newFakeRIE(t, func(string) time.Duration { return 5 * time.Millisecond })
	v, _ := newInvoker(t, Options{}, rie.endpoint(t))
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			res, err := invoke(v, context.Background(), 1, "e"+strconv.Itoa(i))
			if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), "e"+strconv.Itoa(i)) {
				failed.Add(1)
				t.Errorf("invocation %d: %v %+v", i, err, res)
			}
		})
	}
	wg.Wait()
	if rie.crashes.Load() != 0 || rie.served.Load() != 20 || failed.Load() != 0 {
		t.Fatalf("served %d, concurrent sends %d, failed %d", rie.served.Load(), rie.crashes.Load(), failed.Load())
	}
}

// With concurrency 2 and two endpoints, four run at once and the least busy
// endpoint is chosen: both endpoints serve.
func TestConcurrencyPerEndpointAndLeastBusy(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		running.Add(-1)
		_, _ = w.Write([]byte(`{}`))
	})
	a, b := httptest.NewServer(handler), httptest.NewServer(handler)
	defer a.Close()
	defer b.Close()
	ep := func(s *httptest.Server) table.Endpoint {
		host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
		p, _ := strconv.Atoi(port)
		return table.Endpoint{Address: host, Port: int32(p)}
	}
	v, _ := newInvoker(t, Options{}, ep(a), ep(b))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { _, _ = invoke(v, context.Background(), 2, "{}") })
	}
	waitFor(t, func() bool { return running.Load() == 4 })
	s := v.slotsOf(fn.Key())
	if d := s.depth(); d != 2 {
		t.Fatalf("queue depth %d, want 2 (4 running of 6)", d)
	}
	for ep, n := range s.busySnapshot() {
		if n != 2 {
			t.Errorf("endpoint %s runs %d, want 2 each (least busy first)", ep, n)
		}
	}
	close(release)
	wg.Wait()
	if peak.Load() != 4 {
		t.Fatalf("peak %d in flight, want 4", peak.Load())
	}
}

// A full queue refuses at once; a queued invocation whose deadline passes
// leaves the queue with the context's error.
func TestQueueFullAndQueueTimeout(t *testing.T) {
	block := make(chan struct{})
	rie := newFakeRIE(t, func(string) time.Duration { <-block; return 0 })
	reg := prometheus.NewPedanticRegistry()
	v, _ := newInvoker(t, Options{MaxQueue: 2, Metrics: reg}, rie.endpoint(t))
	go func() { _, _ = invoke(v, context.Background(), 1, "running") }()
	waitFor(t, func() bool { return rie.running.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := invoke(v, ctx, 1, "queued"); errs <- err }()
	}
	waitFor(t, func() bool { return v.slotsOf(fn.Key()).depth() == 2 })
	if _, err := invoke(v, context.Background(), 1, "third"); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third waiter: %v, want ErrQueueFull", err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("queued past the deadline: %v", err)
		}
	}
	if d := v.slotsOf(fn.Key()).depth(); d != 0 {
		t.Fatalf("queue depth %d after the deadline", d)
	}
	close(block)
	if got := testutil.ToFloat64(v.metrics.invocations.WithLabelValues("shop", "pets-fn", "rie", "queue_full")); got != 1 {
		t.Errorf("queue_full counted %v", got)
	}
	if n, err := testutil.GatherAndCount(reg, "turnpike_function_queue_depth", "turnpike_function_invocations_in_flight"); err != nil || n != 2 {
		t.Errorf("gauges: %d series, %v", n, err)
	}
}

// An invocation abandoned at its deadline keeps its slot until the RIE
// answers: the next invocation waits for it instead of crashing the RIE.
func TestAnAbandonedInvocationHoldsItsSlotUntilTheAnswer(t *testing.T) {
	rie := newFakeRIE(t, func(e string) time.Duration {
		if e == "slow" {
			return 300 * time.Millisecond
		}
		return 0
	})
	v, _ := newInvoker(t, Options{}, rie.endpoint(t))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := invoke(v, ctx, 1, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow invocation: %v, want the deadline", err)
	}
	if time.Since(start) > 250*time.Millisecond {
		t.Fatal("the caller waited for the abandoned invocation")
	}
	res, err := invoke(v, context.Background(), 1, "next")
	if err != nil || !strings.Contains(string(res.Body), "next") {
		t.Fatalf("next: %v %+v", err, res)
	}
	if rie.crashes.Load() != 0 || res.Queued < 100*time.Millisecond {
		t.Fatalf("the next invocation did not wait for the slot (queued %v, concurrent sends %d)", res.Queued, rie.crashes.Load())
	}
}

// A refused connection tries another endpoint; the RIE's own timeout
// answer is ErrTimedOut.
func TestRefusedEndpointsAndTheRIEsTimeout(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadEP := addrEndpoint(t, dead.Addr().String())
	dead.Close()
	timedOut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "Task timed out after 1.00 seconds")
	}))
	defer timedOut.Close()
	rie := newFakeRIE(t, nil)
	v, _ := newInvoker(t, Options{}, deadEP, rie.endpoint(t))
	for range 3 {
		if res, err := invoke(v, context.Background(), 1, "x"); err != nil || res.Endpoint != rie.srv.Listener.Addr().String() {
			t.Fatalf("with one dead endpoint: %v %+v", err, res)
		}
	}
	v2, _ := newInvoker(t, Options{}, deadEP)
	if _, err := invoke(v2, context.Background(), 1, "x"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("only a dead endpoint: %v, want ErrUnreachable", err)
	}
	v3, _ := newInvoker(t, Options{}, addrEndpoint(t, timedOut.Listener.Addr().String()))
	if _, err := invoke(v3, context.Background(), 1, "x"); !errors.Is(err, ErrTimedOut) {
		t.Fatalf("RIE timeout: %v, want ErrTimedOut", err)
	}
}

// A function without ready endpoints queues; a new endpoint serves the
// queue (scaling from zero).
func TestNewEndpointsServeTheQueue(t *testing.T) {
	rie := newFakeRIE(t, nil)
	v, store := newInvoker(t, Options{})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := invoke(v, ctx, 1, "waiting")
		done <- err
	}()
	waitFor(t, func() bool { return v.slotsOf(fn.Key()).depth() == 1 })
	store.Update(table.EndpointSets{fn.Key(): {rie.endpoint(t)}})
	v.EndpointsChanged()
	if err := <-done; err != nil {
		t.Fatalf("queued invocation after the endpoint appeared: %v", err)
	}
}

func addrEndpoint(t *testing.T, addr string) table.Endpoint {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return table.Endpoint{Address: host, Port: int32(p)}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// busySnapshot copies the in-flight counts (tests).
func (s *slots) busySnapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.busy))
	for k, v := range s.busy {
		m[k] = v
	}
	return m
}

// An emulator that closes the connection in the middle of its answer: the
// invocation is unreachable (502 in the dataplane) and its slot is freed.
func TestAnAnswerCutShortIsUnreachableAndFreesTheSlot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"statusCode\":")
		_ = buf.Flush()
		_ = conn.Close()
	}))
	defer srv.Close()
	v, _ := newInvoker(t, Options{}, addrEndpoint(t, srv.Listener.Addr().String()))
	for range 2 { // the second proves the slot of the first was freed
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := invoke(v, ctx, 1, "x")
		cancel()
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("answer cut short: %v, want ErrUnreachable", err)
		}
	}
	if n := v.slotsOf(fn.Key()).inFlight(); n != 0 {
		t.Fatalf("%d slots still held", n)
	}
}
