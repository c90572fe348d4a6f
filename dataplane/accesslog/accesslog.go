// Package accesslog writes one line per request (JSON, CLF, or an AWS
// $context template compiled per stage) without ever making a
// request wait for the log's writer.
//
// Invariants:
//   - Log never blocks: entries go through a bounded channel to one writer
//     goroutine; when the channel is full the entry is dropped and counted
//     (Dropped), because a slow stdout must not become a gateway outage.
//   - Lines are written whole and in the order Log accepted them, at most
//     flushDelay after they were queued (batched into few write calls).
//   - An Entry is the request's $context (dataplane/reqctx): the JSON line
//     and the stage's template both render those values, so the access log
//     says what parameter mapping, traces and authorizers saw.
//   - Formats are compiled elsewhere (reqctx.CompileAccessLog), so the
//     routing table and the translator never link this package's goroutine.
package accesslog

import (
	"bufio"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// Entry is one access log record: the request's $context, and the line
// format of its stage (nil writes the JSON object, see AppendJSON).
type Entry struct {
	Context reqctx.Context
	Format  *reqctx.Template
}

// DefaultBuffer is the channel capacity used when New is given size <= 0.
const DefaultBuffer = 8192

// Logger writes entries asynchronously. The zero value is not usable; use New.
// A nil *Logger is valid and discards everything, so callers need no checks.
type Logger struct {
	ch        chan Entry
	w         io.Writer
	dropped   atomic.Uint64
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.RWMutex // guards closed against a Log racing Close
	closed    bool
}

// New starts a Logger writing JSON lines to w with a channel of size entries.
// Call Close to flush and stop it.
func New(w io.Writer, size int) *Logger {
	if size <= 0 {
		size = DefaultBuffer
	}
	l := &Logger{ch: make(chan Entry, size), w: w, done: make(chan struct{})}
	go l.run()
	return l
}

// Log queues e. It never blocks: when the queue is full, or the Logger is
// closed, e is dropped and counted.
func (l *Logger) Log(e Entry) {
	if l == nil {
		return
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return
	}
	select {
	case l.ch <- e:
	default:
		l.dropped.Add(1)
	}
}

// Dropped is the number of entries dropped so far because the writer was too
// slow or the Logger was closed. Exported for metrics.
func (l *Logger) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.dropped.Load()
}

// Close stops accepting entries, writes those already queued and returns once
// they are written. It is safe to call more than once.
func (l *Logger) Close() {
	if l == nil {
		return
	}
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.ch)
		l.mu.Unlock()
	})
	<-l.done
}

// flushDelay is how long a written line may wait in the buffer for others
// to share its write call. Flushing whenever the queue ran empty cost one
// write system call per one or two lines under load.
const flushDelay = 50 * time.Millisecond

// run encodes entries into a buffer, which goes out when it is full, or
// flushDelay after the first line that is not out yet, or at Close.
func (l *Logger) run() {
	defer close(l.done)
	bw := bufio.NewWriterSize(l.w, 64<<10)
	var line []byte
	var clock timeCache
	flush := time.NewTimer(flushDelay)
	flush.Stop()
	pending := false
	for {
		select {
		case e, ok := <-l.ch:
			if !ok {
				_ = bw.Flush()
				return
			}
			c := &e.Context
			if c.RequestTimeText == "" && !c.RequestTime.IsZero() {
				c.RequestTimeText = clock.format(c.RequestTime)
			}
			if e.Format != nil {
				line = append(e.Format.Append(line[:0], c), '\n')
			} else {
				line = AppendJSON(line[:0], c)
			}
			_, _ = bw.Write(line) // a failing writer must not stop the gateway; lines are lost
			if !pending {
				pending = true
				flush.Reset(flushDelay)
			}
		case <-flush.C:
			_ = bw.Flush()
			pending = false
		}
	}
}

// timeCache formats request times, reusing the last string while the second
// (and zone offset) is the same: under load most lines share it.
type timeCache struct {
	sec  int64
	zone int
	text string
}

func (c *timeCache) format(t time.Time) string {
	_, off := t.Zone()
	if s := t.Unix(); s != c.sec || off != c.zone || c.text == "" {
		c.sec, c.zone, c.text = s, off, t.Format(reqctx.RequestTimeLayout)
	}
	return c.text
}
