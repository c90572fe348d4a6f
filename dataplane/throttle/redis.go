package throttle

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// KeyPrefix namespaces every Redis key Turnpike writes: buckets are
// KeyPrefix+"b:"+id and quota counters KeyPrefix+"q:"+id.
const KeyPrefix = "turnpike:"

// DefaultRedisTimeout bounds dialing, reading, writing and waiting for a
// pooled connection, so that a dead or hung Redis costs a request at most
// about this long before the failure mode decides.
const DefaultRedisTimeout = 100 * time.Millisecond

// StoreErrorsMetric counts the checks the shared store failed to answer.
const StoreErrorsMetric = "turnpike_ratelimit_store_errors_total"

//go:embed redis.lua
var redisLua string

// script is the one script per request (redis.lua). go-redis runs it with
// EVALSHA and falls back to EVAL, which loads it, on NOSCRIPT.
var script = redis.NewScript(redisLua)

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// URL is redis://[user:pass@]host:port[/db] or rediss:// (TLS). Query
	// options of go-redis (dial_timeout, read_timeout, pool_size, ...) are
	// honoured; unset timeouts default to DefaultRedisTimeout and retries
	// are off (a retried script could count a request twice).
	URL string
	// FailClosed answers Unavailable (503) when Redis fails; otherwise the
	// request is Allowed (fail open). Both count StoreErrorsMetric.
	FailClosed bool
	// Metrics, when set, receives StoreErrorsMetric.
	Metrics prometheus.Registerer
}

// Redis is a Limiter whose stage, route and plan buckets and quotas live in
// Redis and are shared by every replica that uses the same Redis. Each Take
// is one script run on Redis's clock (TIME) that checks every shared bucket
// and the quota and takes only if all admit (check-all-before-take holds
// across replicas). A Check with no shared bucket and no quota makes no
// round trip, so a request costs one round trip per step that has shared
// buckets: on an apiKeyRequired route two (the stage/route step, then the
// plan step). The gateway-wide bucket stays in process (a per-replica cap):
// a Take whose Check has it takes its token first and gives it back when the
// shared check of that Take refuses or fails closed, so a refused step still
// costs nothing; a Check without it (the plan step) leaves it alone.
type Redis struct {
	client     *redis.Client
	gateway    *Local
	failClosed bool
	errors     prometheus.Counter
	// now pins the script's clock (tests only); nil means Redis TIME.
	now func() time.Time
}

// NewRedis connects lazily: a Redis that is down at start is a failing
// store, not a startup error, and go-redis reconnects on its own.
func NewRedis(o RedisOptions) (*Redis, error) {
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	for _, d := range []*time.Duration{&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout} {
		if *d == 0 {
			*d = DefaultRedisTimeout
		}
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1
	}
	r := &Redis{
		client:     redis.NewClient(opt),
		gateway:    NewLocal(nil),
		failClosed: o.FailClosed,
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: StoreErrorsMetric,
			Help: "Rate-limit checks the shared store (Redis) failed to answer; each was served (fail open) or answered 503 (fail closed).",
		}),
	}
	if o.Metrics != nil {
		if err := o.Metrics.Register(r.errors); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Take implements Limiter.
func (r *Redis) Take(ctx context.Context, c *Check) Result {
	if c.Gateway != nil {
		if res := r.gateway.Take(ctx, &Check{Gateway: c.Gateway}); res.Verdict != Allowed {
			return res
		}
	}
	if len(c.Buckets) == 0 && c.Quota == nil {
		return Result{}
	}
	res, err := r.run(ctx, c.Buckets, c.Quota)
	if err != nil {
		// A check cut short because the client went away is not a store
		// failure: counting it would make the alert on this metric fire on
		// client disconnects.
		if ctx.Err() == nil || !errors.Is(ctx.Err(), context.Canceled) {
			r.errors.Inc()
		}
		res = Result{StoreErr: err}
		if r.failClosed {
			res.Verdict = Unavailable
		}
	}
	if res.Verdict != Allowed && c.Gateway != nil {
		r.gateway.refund(c.Gateway)
	}
	return res
}

// Usage implements Limiter: the counter of the period that contains Redis's now.
func (r *Redis) Usage(ctx context.Context, id string, q table.Quota) (int64, error) {
	reply, err := r.eval(ctx, "usage", nil, &QuotaCheck{ID: id, Quota: q})
	if err != nil {
		return 0, err
	}
	return reply[3], nil
}

// run calls the script in mode "take" and decodes its reply.
func (r *Redis) run(ctx context.Context, buckets []Bucket, q *QuotaCheck) (Result, error) {
	reply, err := r.eval(ctx, "take", buckets, q)
	if err != nil {
		return Result{}, err
	}
	res := Result{Verdict: Verdict(reply[0]), RetryAfter: time.Duration(reply[1]) * time.Microsecond}
	if i := reply[2]; i > 0 && int(i) <= len(buckets) {
		res.Bucket = buckets[i-1].ID
	}
	if q != nil {
		res.Quota = &QuotaState{Limit: q.Limit, Remaining: max(q.Limit-reply[3], 0), Reset: time.Duration(reply[4]) * time.Microsecond}
	}
	return res, nil
}

// eval runs the script (redis.lua: KEYS, ARGV and Reply) and returns its
// five-number reply.
func (r *Redis) eval(ctx context.Context, mode string, buckets []Bucket, q *QuotaCheck) ([]int64, error) {
	keys := make([]string, 0, len(buckets)+1)
	args := make([]any, 0, 6+2*len(buckets))
	now := ""
	if r.now != nil {
		now = strconv.FormatInt(r.now().UnixMicro(), 10)
	}
	args = append(args, mode, now, len(buckets))
	for i := range buckets {
		keys = append(keys, KeyPrefix+"b:"+buckets[i].ID)
		args = append(args, buckets[i].RateLimit, buckets[i].BurstLimit)
	}
	if q != nil {
		keys = append(keys, KeyPrefix+"q:"+q.ID)
		args = append(args, q.Limit, periodCode(q.Period), q.Offset)
	}
	reply, err := script.Run(ctx, r.client, keys, args...).Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(reply) != 5 {
		return nil, errors.New("the rate-limit script answered " + strconv.Itoa(len(reply)) + " values, want 5")
	}
	return reply, nil
}

// periodCode is the script's number for a quota period.
func periodCode(p table.QuotaPeriod) int {
	switch p {
	case table.QuotaWeek:
		return 1
	case table.QuotaMonth:
		return 2
	}
	return 0
}

// refund gives back the token Take took from b, never above its burst.
func (l *Local) refund(b *Bucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.buckets[b.ID]; s != nil {
		s.tokens = min(s.tokens+Unit, int64(b.BurstLimit)*Unit)
	}
}
