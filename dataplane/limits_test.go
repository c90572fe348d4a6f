package dataplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

const (
	goldKey  = "gold-key-0123456789abcdef"
	otherKey = "other-key-0123456789abcdef"
)

func hashKey(k string) string {
	s := sha256.Sum256([]byte(k))
	return hex.EncodeToString(s[:])
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// limitsApi: stage prod throttles GET /slow to 1/1 and every other route to
// 0/5; GET /keyed needs a key of plan gold (plan bucket 0/4, route bucket
// 0/2 on GET /keyed2, quota 3 a day). Stage dev has no plan.
func limitsApi() ([]*table.Api, []*table.Plan) {
	keyed := mockRoute("GET /keyed", 200, "keyed")
	keyed.ApiKeyRequired = true
	keyed2 := mockRoute("GET /keyed2", 200, "keyed2")
	keyed2.ApiKeyRequired = true
	slow := mockRoute("GET /slow", 200, "slow")
	slow.Throttle = &table.Throttle{RateLimit: 1, BurstLimit: 1}
	open := mockRoute("GET /open", 200, "open")
	open.Throttle = &table.Throttle{BurstLimit: 5}
	prod := stage("prod", keyed, keyed2, slow, open)
	prod.Plans = []*table.StagePlan{{Plan: "shop/gold", RouteThrottles: map[string]table.Throttle{"GET /keyed2": {BurstLimit: 2}}}}
	devKeyed := mockRoute("GET /keyed", 200, "dev")
	devKeyed.ApiKeyRequired = true
	plan := &table.Plan{Namespace: "shop", Name: "gold",
		Throttle: &table.Throttle{BurstLimit: 4},
		Quota:    &table.Quota{Limit: 3, Period: table.QuotaDay},
		Keys:     []table.APIKey{{ID: table.KeyID(hashKey(goldKey)), Object: "shop/gold-key", Hash: hashKey(goldKey)}}}
	return []*table.Api{testApi(table.ProtocolHTTP, prod, stage("dev", devKeyed))}, []*table.Plan{plan}
}

func newLimitsServer(t *testing.T, o Options) (*Server, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2024, 5, 1, 18, 0, 0, 0, time.UTC)}
	if o.Limiter == nil {
		o.Limiter = throttle.NewLocal(clk.now)
	}
	o.Forwarder = &fakeForwarder{}
	s := NewServer(o)
	apis, plans := limitsApi()
	tbl, err := table.NewWithPlans(apis, plans)
	if err != nil {
		t.Fatal(err)
	}
	s.Swap(tbl)
	return s, clk
}

func keyGet(s *Server, target, key string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://"+testHost+target, nil)
	if key != "" {
		r.Header.Set("x-api-key", key)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// statuses sends n requests and returns how many got each status.
func statuses(s *Server, target, key string, n int) map[int]int {
	out := map[int]int{}
	for range n {
		out[keyGet(s, target, key).Code]++
	}
	return out
}

func TestTheGatewayWideBucketAnswers429WithRetryAfter(t *testing.T) {
	s, _ := newLimitsServer(t, Options{GatewayThrottle: table.Throttle{RateLimit: 2, BurstLimit: 3}})
	if got := statuses(s, "/prod/open", "", 3); got[200] != 3 {
		t.Fatalf("the burst of 3: %v", got)
	}
	w := keyGet(s, "/dev/keyed", otherKey) // any route, even before its key is checked
	if w.Code != 429 || trimBody(w) != `{"message":"Too Many Requests"}` || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("got %d %s Retry-After=%q", w.Code, trimBody(w), w.Header().Get("Retry-After"))
	}
}

func TestEachRouteHasItsOwnStageBucket(t *testing.T) {
	s, clk := newLimitsServer(t, Options{})
	if got := statuses(s, "/prod/slow", "", 3); got[200] != 1 || got[429] != 2 {
		t.Fatalf("slow: %v", got)
	}
	if got := statuses(s, "/prod/open", "", 7); got[200] != 5 || got[429] != 2 {
		t.Fatalf("open is not limited by slow's bucket: %v", got)
	}
	clk.advance(time.Second)
	if w := keyGet(s, "/prod/slow", ""); w.Code != 200 {
		t.Fatalf("slow did not refill at 1/s: %d", w.Code)
	}
}

func TestAMissingUnknownOrForeignKeyIsForbidden(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	for _, tc := range []struct{ name, target, key string }{
		{"no header", "/prod/keyed", ""},
		{"an unknown key", "/prod/keyed", otherKey},
		{"a key of a plan of another stage", "/dev/keyed", goldKey},
		{"a key that differs in case", "/prod/keyed", "GOLD-KEY-0123456789ABCDEF"},
	} {
		w := keyGet(s, tc.target, tc.key)
		if w.Code != 403 || trimBody(w) != `{"message":"Forbidden"}` {
			t.Errorf("%s: got %d %s", tc.name, w.Code, trimBody(w))
		}
	}
	if w := keyGet(s, "/prod/open", ""); w.Code != 200 {
		t.Errorf("a route without apiKeyRequired needs no key: %d", w.Code)
	}
}

func TestThePlanQuotaSetsRateLimitHeadersThenAnswersLimitExceeded(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	for i := range 3 {
		w := keyGet(s, "/prod/keyed", goldKey)
		if w.Code != 200 || w.Header().Get("RateLimit-Limit") != "3" ||
			w.Header().Get("RateLimit-Remaining") != strconv.Itoa(2-i) || w.Header().Get("RateLimit-Reset") != "21600" {
			t.Fatalf("request %d: %d %v", i, w.Code, w.Header())
		}
	}
	w := keyGet(s, "/prod/keyed", goldKey)
	if w.Code != 429 || trimBody(w) != `{"message":"Limit Exceeded"}` || w.Header().Get("Retry-After") != "21600" ||
		w.Header().Get("RateLimit-Remaining") != "0" {
		t.Fatalf("got %d %s %v", w.Code, trimBody(w), w.Header())
	}
}

func TestThePlanBucketIsPerKeyAcrossRoutesAndRouteThrottlesApplyToTheirRoute(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	s.Swap(withPlan(t, &table.Plan{Namespace: "shop", Name: "gold", Throttle: &table.Throttle{BurstLimit: 4},
		Keys: []table.APIKey{{ID: "k", Object: "shop/k", Hash: hashKey(goldKey)}}}))
	if got := statuses(s, "/prod/keyed2", goldKey, 3); got[200] != 2 || got[429] != 1 {
		t.Fatalf("the plan's route throttle of 2: %v", got)
	}
	if got := statuses(s, "/prod/keyed", goldKey, 4); got[200] != 2 || got[429] != 2 {
		t.Fatalf("the plan bucket of 4 counts both routes: %v", got)
	}
}

// withPlan is the limitsApi table with plan instead of gold's defaults.
func withPlan(t *testing.T, plan *table.Plan) *table.Table {
	apis, _ := limitsApi()
	tbl, err := table.NewWithPlans(apis, []*table.Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// Review finding 6: on apiKeyRequired routes the stage/route and gateway
// buckets were only peeked before authorization, so requests without a valid
// key never emptied them and all reached the authorizer.
func TestRequestsWithoutAKeyStillSpendTheStageAndGatewayTokens(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	apis, plans := limitsApi()
	apis[0].Stages[0].Routes[0].Throttle = &table.Throttle{BurstLimit: 2} // prod GET /keyed
	tbl, err := table.NewWithPlans(apis, plans)
	if err != nil {
		t.Fatal(err)
	}
	s.Swap(tbl)
	for i, want := range []int{403, 403, 429} {
		if w := keyGet(s, "/prod/keyed", ""); w.Code != want {
			t.Fatalf("request %d without a key: got %d %s, want %d", i+1, w.Code, trimBody(w), want)
		}
	}

	gw, _ := newLimitsServer(t, Options{GatewayThrottle: table.Throttle{BurstLimit: 2}})
	if got := statuses(gw, "/prod/keyed", otherKey, 3); got[403] != 2 || got[429] != 1 {
		t.Fatalf("unknown keys against a gateway burst of 2: %v", got)
	}
	if w := keyGet(gw, "/prod/open", ""); w.Code != 429 {
		t.Fatalf("the gateway bucket should be empty for every route: got %d", w.Code)
	}
}

// api.md: each step takes its own tokens once all its buckets admit. A key
// refusal (403) or a plan refusal (429) after step 1 keeps step 1's stage
// token taken; a refusal within a step costs nothing of that step.
// TestOnAKeyedRouteWithoutAnAuthorizerBothStepsRunAtOnce: nothing but a local
// key lookup separates the stage step from the plan step there, so a bad key
// still spends the stage step's tokens (403, then 429 once they are gone),
// while a valid key checks both steps' buckets together and a plan refusal
// costs no stage token.
func TestOnAKeyedRouteWithoutAnAuthorizerBothStepsRunAtOnce(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	plan := &table.Plan{Namespace: "shop", Name: "gold", Throttle: &table.Throttle{BurstLimit: 1},
		Quota: &table.Quota{Limit: 5, Period: table.QuotaDay},
		Keys:  []table.APIKey{{ID: "k", Object: "shop/k", Hash: hashKey(goldKey)}}}
	apis, _ := limitsApi()
	apis[0].Stages[0].Routes[0].Throttle = &table.Throttle{BurstLimit: 4} // prod GET /keyed
	apis[0].ErrorHints = true
	s.Swap(withPlanApis(t, apis, plan))
	if w := keyGet(s, "/prod/keyed", otherKey); w.Code != 403 {
		t.Fatalf("unknown key: %d", w.Code)
	}
	// 3 stage tokens left: the plan bucket of 1 admits one and refuses two,
	// and the refusals cost no stage token.
	if got := statuses(s, "/prod/keyed", goldKey, 3); got[200] != 1 || got[429] != 2 {
		t.Fatalf("plan bucket of 1: %v", got)
	}
	w := keyGet(s, "/prod/keyed", goldKey)
	if w.Code != 429 || trimBody(w) != `{"message":"Too Many Requests","hint":"the API key k exceeded the throttle of usage plan shop/gold"}` {
		t.Fatalf("plan refusal: got %d %s", w.Code, trimBody(w))
	}
	// 2 stage tokens are left for bad keys, then the stage step answers 429.
	if got := statuses(s, "/prod/keyed", otherKey, 3); got[403] != 2 || got[429] != 1 {
		t.Fatalf("bad keys after the plan refusals: %v, want 2 × 403 then 429", got)
	}
	// The plan's refusals were not counted in the quota.
	if used, err := s.limiter.Usage(context.Background(), plan.QuotaID(&plan.Keys[0]), *plan.Quota); err != nil || used != 1 {
		t.Fatalf("quota used %d (%v), want 1", used, err)
	}
}

// TestOnAKeyedRouteWithAnAuthorizerAPlanRefusalCostsTheStageStep: the stage
// step runs before the authorizer, so its tokens stay spent when the plan
// step later refuses (api.md's per-step rule).
func TestOnAKeyedRouteWithAnAuthorizerAPlanRefusalCostsTheStageStep(t *testing.T) {
	srv, _ := authzServer(t)
	s, _ := newLimitsServer(t, Options{})
	plan := &table.Plan{Namespace: "shop", Name: "gold", Throttle: &table.Throttle{BurstLimit: 1},
		Keys: []table.APIKey{{ID: "k", Object: "shop/k", Hash: hashKey(goldKey)}}}
	apis, _ := limitsApi()
	keyed := authRoute(apis[0].Stages[0].Routes[0], requestAuthz(srv.URL, true)) // prod GET /keyed
	keyed.Throttle = &table.Throttle{BurstLimit: 3}
	s.Swap(withPlanApis(t, apis, plan))
	send := func() int {
		r := httptest.NewRequest("GET", "http://"+testHost+"/prod/keyed", nil)
		r.Header.Set("x-api-key", goldKey)
		r.Header.Set("Authorization", "allow")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	// 200 (plan token), 429 (plan empty; stage token spent), 429 (same), then
	// the stage bucket of 3 is empty too.
	var got []int
	for range 4 {
		got = append(got, send())
	}
	if !slices.Equal(got, []int{200, 429, 429, 429}) {
		t.Fatalf("statuses %v", got)
	}
	apis[0].ErrorHints = true
	s.Swap(withPlanApis(t, apis, plan))
	r := httptest.NewRequest("GET", "http://"+testHost+"/prod/keyed", nil)
	r.Header.Set("x-api-key", goldKey)
	r.Header.Set("Authorization", "allow")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if !strings.Contains(trimBody(w), `the throttle of route \"GET /keyed\" in stage \"prod\" is exhausted`) {
		t.Fatalf("the stage step should be exhausted by the plan refusals: %d %s", w.Code, trimBody(w))
	}
}

func withPlanApis(t *testing.T, apis []*table.Api, plan *table.Plan) *table.Table {
	tbl, err := table.NewWithPlans(apis, []*table.Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestASwapOfAnUnrelatedChangeKeepsTheBuckets(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	statuses(s, "/prod/slow", "", 1)
	apis, plans := limitsApi()
	apis[0].ErrorHints = true
	tbl, err := table.NewWithPlans(apis, plans)
	if err != nil {
		t.Fatal(err)
	}
	s.Swap(tbl)
	w := keyGet(s, "/prod/slow", "")
	if w.Code != 429 || trimBody(w) != `{"message":"Too Many Requests","hint":"the throttle of route \"GET /slow\" in stage \"prod\" is exhausted"}` {
		t.Fatalf("got %d %s", w.Code, trimBody(w))
	}
}

// downLimiter is a shared limiter whose store always fails.
type downLimiter struct{ verdict throttle.Verdict }

func (d downLimiter) Take(context.Context, *throttle.Check) throttle.Result {
	return throttle.Result{Verdict: d.verdict, StoreErr: errors.New("connection refused")}
}
func (d downLimiter) Usage(context.Context, string, table.Quota) (int64, error) {
	return 0, errors.New("connection refused")
}

func TestAFailedStoreAnswers503WhenClosedAndServesWhenOpen(t *testing.T) {
	closed, _ := newLimitsServer(t, Options{Limiter: downLimiter{throttle.Unavailable}})
	w := keyGet(closed, "/prod/keyed", goldKey)
	if w.Code != http.StatusServiceUnavailable || trimBody(w) != `{"message":"Service Unavailable"}` {
		t.Fatalf("closed: %d %s", w.Code, trimBody(w))
	}
	open, _ := newLimitsServer(t, Options{Limiter: downLimiter{throttle.Allowed}})
	if w := keyGet(open, "/prod/keyed", goldKey); w.Code != 200 {
		t.Fatalf("open: %d", w.Code)
	}
}
