package jwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
)

func authorize(t *testing.T, s *Store, iss string, k testKey, c *clock) *auth.Result {
	t.Helper()
	return s.Authorize(context.Background(), request("Bearer "+k.sign(t, claimsAt(iss, c.Now()), nil)), jwtAuthorizer(iss), nil)
}

func TestRotatedKeyIsFetchedOnItsFirstUnknownKid(t *testing.T) {
	k1, k2 := newRSA(t, 0, "k1"), newRSA(t, 1, "k2")
	is := newIssuer(t, k1)
	c := newClock()
	s := newTestStore(c)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	is.rotate(k1, k2)
	c.advance(11 * time.Second)
	mustOutcome(t, authorize(t, s, is.srv.URL, k2, c), auth.OutcomeAllow, "")
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (first use, then the new kid)", n)
	}
	is.rotate(k2) // k1 retired: the cached set still has it until the next refresh
	mustOutcome(t, authorize(t, s, is.srv.URL, k2, c), auth.OutcomeAllow, "")
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("a known kid refetched the JWKS (%d fetches)", n)
	}
}

func TestUnknownKidsRefetchAtMostOncePerInterval(t *testing.T) {
	k1 := newRSA(t, 0, "k1")
	is := newIssuer(t, k1)
	c := newClock()
	s := newTestStore(c)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	for i := range 20 {
		k := newRSA(t, 1, "random-"+string(rune('a'+i)))
		mustOutcome(t, authorize(t, s, is.srv.URL, k, c), auth.OutcomeUnauthorized, "is not in the issuer's key set")
	}
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times within the interval, want 1", n)
	}
	c.advance(10 * time.Second)
	mustOutcome(t, authorize(t, s, is.srv.URL, newRSA(t, 1, "later"), c), auth.OutcomeUnauthorized, "later")
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after the interval, want 2", n)
	}
}

func TestLastGoodKeysServeWhileTheIssuerIsDown(t *testing.T) {
	k1 := newRSA(t, 0, "k1")
	is := newIssuer(t, k1)
	c := newClock()
	s := newTestStore(c)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	is.down.Store(true)
	c.advance(2 * time.Hour) // keys are old: a background refresh fails
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	waitFor(t, func() bool { _, failed := s.Fetches(); return failed == 1 })
	c.advance(time.Minute)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
}

func TestStaleKeysAreRefreshedInTheBackground(t *testing.T) {
	k1, k2 := newRSA(t, 0, "k1"), newRSA(t, 1, "k2")
	is := newIssuer(t, k1)
	c := newClock()
	s := newTestStore(c)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	is.rotate(k2)
	c.advance(2 * time.Hour)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "") // served from cache, refresh starts
	waitFor(t, func() bool { ok, _ := s.Fetches(); return ok == 2 })
	c.advance(11 * time.Second)
	mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeUnauthorized, `kid "k1"`)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewTablesWithTheSameIssuerReuseTheKeySet(t *testing.T) {
	k1 := newRSA(t, 0, "k1")
	is := newIssuer(t, k1)
	c := newClock()
	s := newTestStore(c)
	for range 5 { // every call builds a fresh *table.Authorizer, as a table swap does
		mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	}
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

func TestKeyFetchFailuresFailClosedWithTheirCause(t *testing.T) {
	k1 := newRSA(t, 0, "k1")
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":["` + strings.Repeat("x", MaxDocumentBytes) + `"]}`))
	}))
	defer big.Close()
	redirects := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	}))
	defer redirects.Close()
	offsite := httptest.NewServer(http.RedirectHandler("http://example.com/jwks", http.StatusFound))
	defer offsite.Close()
	mismatch := newIssuer(t, k1)
	other := `{"issuer":"https://other.example","jwks_uri":"` + mismatch.srv.URL + `/jwks"}`
	mismatch.discovery.Store(&other)
	down := newIssuer(t, k1)
	down.down.Store(true)
	cases := []struct {
		name, issuer, jwksURI, want string
		opts                        Options
	}{
		{name: "JWKS over the size bound", issuer: "https://issuer.test", jwksURI: big.URL, want: "larger than"},
		{name: "endless redirects", issuer: "https://issuer.test", jwksURI: redirects.URL + "/a", want: "redirects"},
		{name: "redirect to a non-loopback http URL", issuer: "https://issuer.test", jwksURI: offsite.URL, want: "only on loopback"},
		{name: "discovery naming another issuer", issuer: mismatch.srv.URL, want: "names issuer"},
		{name: "issuer down on first use", issuer: down.srv.URL, want: "status 503"},
		{name: "http JWKS without --allow-http-jwks", issuer: "https://issuer.test", jwksURI: big.URL, opts: Options{}, want: "not https"},
		{name: "JWKS address in a denied range", issuer: "https://issuer.test", jwksURI: big.URL,
			opts: Options{AllowHTTP: true, DenyEgress: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, want: "egress denied"},
		{name: "non-https scheme", issuer: "https://issuer.test", jwksURI: "ftp://127.0.0.1/jwks", want: "only https"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			o := tc.opts
			if tc.opts.DenyEgress == nil && !strings.Contains(tc.name, "without") {
				o.AllowHTTP = true
			}
			o.Now = c.Now
			s := NewStore(o)
			a := jwtAuthorizer(tc.issuer)
			a.JWT.JWKSURI = tc.jwksURI
			r := s.Authorize(context.Background(), request("Bearer "+k1.sign(t, claimsAt(tc.issuer, c.Now()), nil)), a, nil)
			mustOutcome(t, r, auth.OutcomeError, tc.want)
		})
	}
}

func TestExplicitJWKSURISkipsDiscovery(t *testing.T) {
	k1 := newRSA(t, 0, "k1")
	is := newIssuer(t, k1)
	bad := `{"issuer":"https://wrong.example"}`
	is.discovery.Store(&bad) // discovery would fail
	c := newClock()
	s := newTestStore(c)
	a := jwtAuthorizer(is.srv.URL)
	a.JWT.JWKSURI = is.srv.URL + "/jwks"
	r := s.Authorize(context.Background(), request("Bearer "+k1.sign(t, claimsAt(is.srv.URL, c.Now()), nil)), a, nil)
	mustOutcome(t, r, auth.OutcomeAllow, "")
}

// A client that hangs up while its unknown kid triggers a fetch must not
// make the fetch fail and so block refetches for the refresh interval
// (review finding 5).
func TestCancelledCallerDoesNotPoisonTheKeyRefresh(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	unknown := newRSA(t, 2, "random")

	t.Run("first use of an issuer", func(t *testing.T) {
		k1 := newRSA(t, 0, "k1")
		is := newIssuer(t, k1)
		c := newClock()
		s := newTestStore(c)
		tok := unknown.sign(t, claimsAt(is.srv.URL, c.Now()), nil)
		_ = s.Authorize(cancelled, request("Bearer "+tok), jwtAuthorizer(is.srv.URL), nil)
		mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
	})

	t.Run("key rotation", func(t *testing.T) {
		k1, k2 := newRSA(t, 0, "k1"), newRSA(t, 1, "k2")
		is := newIssuer(t, k1)
		c := newClock()
		s := newTestStore(c)
		mustOutcome(t, authorize(t, s, is.srv.URL, k1, c), auth.OutcomeAllow, "")
		is.rotate(k1, k2)
		c.advance(11 * time.Second)
		tok := unknown.sign(t, claimsAt(is.srv.URL, c.Now()), nil)
		r := s.Authorize(cancelled, request("Bearer "+tok), jwtAuthorizer(is.srv.URL), nil)
		mustOutcome(t, r, auth.OutcomeUnauthorized, `kid "random"`)
		mustOutcome(t, authorize(t, s, is.srv.URL, k2, c), auth.OutcomeAllow, "")
		if _, failed := s.Fetches(); failed != 0 {
			t.Fatalf("%d JWKS fetches failed, want 0", failed)
		}
	})
}
