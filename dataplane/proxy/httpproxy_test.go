package proxy

import (
	"net/http"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

func TestProxyURL(t *testing.T) {
	cases := []struct {
		name     string
		uri      string
		names    []string
		values   []string
		rawQuery string
		want     string
		wantErr  bool
	}{
		{
			name: "a parameter is escaped as a path segment",
			uri:  "http://legacy.example.com/pets/{petId}", names: []string{"petId"}, values: []string{"a b;c"},
			want: "http://legacy.example.com/pets/a%20b%3Bc",
		},
		{
			name: "a greedy parameter keeps its slashes and escapes each segment",
			uri:  "http://h/files/{proxy+}", names: []string{"proxy"}, values: []string{"x/y z/%"},
			want: "http://h/files/x/y%20z/%25",
		},
		{
			name: "the request query is merged after the URI's own",
			uri:  "http://h/p?v=1", rawQuery: "q=2&r",
			want: "http://h/p?v=1&q=2&r",
		},
		{
			name: "a parameter in the query is escaped as a query value",
			uri:  "http://h/p?id={id}", names: []string{"id"}, values: []string{"a&b=c"}, rawQuery: "x=1",
			want: "http://h/p?id=a%26b%3Dc&x=1",
		},
		{
			name: "an unknown placeholder stays as written",
			uri:  "http://h/{nope}", want: "http://h/%7Bnope%7D",
		},
		{
			name: "a placeholder in the authority is not substituted",
			uri:  "http://{host}/p", names: []string{"host"}, values: []string{"evil.example"}, wantErr: true,
		},
		{name: "a relative URI is rejected", uri: "/just/a/path", wantErr: true},
		{name: "a non-HTTP scheme is rejected", uri: "file:///etc/passwd", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := proxyURL(c.uri, urlpath.Params{Names: c.names, Values: c.values}, c.rawQuery)
			if c.wantErr {
				if err == nil {
					t.Fatalf("proxyURL = %s, want an error", u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := u.String(); got != c.want {
				t.Fatalf("proxyURL = %s, want %s", got, c.want)
			}
		})
	}
}

func TestHTTPProxyForwardsToTheSubstitutedURI(t *testing.T) {
	b := newBackend(t, "legacy", nil)
	in := &table.Integration{Type: table.IntegrationHTTPProxy, URI: b.URL + "/v1/{kind}/{rest}?src=gw"}
	g := newGateway(t, Options{}, func(r *http.Request) *Target {
		return &Target{
			Integration: in, Params: urlpath.Params{Names: []string{"kind", "rest"}, Values: []string{"dog food", "a/b;c"}},
			RawQuery: r.URL.RawQuery,
		}
	})
	r := get(t, g.URL+"/ignored?page=2")
	if r.status != http.StatusOK {
		t.Fatalf("status %d (%s)", r.status, r.cause)
	}
	if want := "/v1/dog%20food/a/b%3Bc?src=gw&page=2"; r.seen.RequestURI != want {
		t.Fatalf("backend saw %q, want %q", r.seen.RequestURI, want)
	}
	if want := b.Listener.Addr().String(); r.seen.Host != want {
		t.Fatalf("Host = %q, want the URI's host %q", r.seen.Host, want)
	}
}

func TestHTTPProxyWithABadURIIs500(t *testing.T) {
	in := &table.Integration{Type: table.IntegrationHTTPProxy, URI: "ftp://h/x"}
	g := newGateway(t, Options{}, func(*http.Request) *Target { return &Target{Integration: in} })
	if r := get(t, g.URL+"/"); r.status != http.StatusInternalServerError {
		t.Fatalf("status %d", r.status)
	}
}

func TestHTTPProxyDNSFailureIs502(t *testing.T) {
	in := &table.Integration{Type: table.IntegrationHTTPProxy, URI: "http://no-such-host.invalid/x", TimeoutMillis: 2000}
	g := newGateway(t, Options{}, func(*http.Request) *Target { return &Target{Integration: in} })
	r := get(t, g.URL+"/")
	if r.status != http.StatusBadGateway || r.body != "Internal server error" || r.cause != "dns failure" {
		t.Fatalf("got %d %q cause %q", r.status, r.body, r.cause)
	}
}
