package table

import (
	"crypto/tls"
	"strings"
	"testing"
)

func domainTable(t *testing.T, domains ...*Domain) (*Table, error) {
	t.Helper()
	return NewWithDomains([]*Api{api("a", []string{"a.ns.example"}, &Stage{Name: "prod"}, &Stage{Name: "dev"})}, nil, domains)
}

func apiMapping(base, stage string) *Mapping {
	return &Mapping{BasePath: base, Namespace: "ns", Api: "a", Stage: stage}
}

func TestLongestBasePathWinsOnSegmentBoundaries(t *testing.T) {
	d := &Domain{Hostname: "api.example.com", Mappings: []*Mapping{apiMapping("", "dev"), apiMapping("v1", "prod"), apiMapping("v1/admin", "dev")}}
	tbl, err := domainTable(t, d)
	if err != nil {
		t.Fatal(err)
	}
	got := tbl.Domain("api.example.com")
	if got == nil {
		t.Fatal("domain not found")
	}
	for path, want := range map[string]string{
		"/v1/pets": "v1", "/v1": "v1", "/v10/pets": "", "/": "", "/v1/admin/x": "v1/admin", "/v1/administrator": "v1",
	} {
		m := got.Match(segs(path))
		if m == nil || m.BasePath != want {
			t.Errorf("%s matched %+v, want basePath %q", path, m, want)
		}
	}
	if m := got.Match(segs("/v1/pets")); m.StageRef() == nil || m.StageRef().Name != "prod" || m.ApiRef().Name != "a" || m.Segments() != 1 {
		t.Errorf("mapping not linked: %+v", m)
	}
}

func TestAHostWithoutARootMappingMatchesNothingOutsideItsBasePaths(t *testing.T) {
	tbl, err := domainTable(t, &Domain{Hostname: "api.example.com", Mappings: []*Mapping{apiMapping("v1", "prod")}})
	if err != nil {
		t.Fatal(err)
	}
	if m := tbl.Domain("api.example.com").Match(segs("/v2/x")); m != nil {
		t.Errorf("matched %+v", m)
	}
	if tbl.Domain("other.example.com") != nil {
		t.Error("an unknown host has a domain")
	}
}

func TestStagesOfMutualTLSDomainsAreMarked(t *testing.T) {
	mtls := &Domain{Hostname: "m.example.com", Mappings: []*Mapping{apiMapping("", "prod")},
		TLS: &TLS{Secret: "ns/c", MinVersion: TLSVersion12, ClientCASecret: "ns/ca", Err: "Secret not found"}}
	tbl, err := domainTable(t, mtls)
	if err != nil {
		t.Fatal(err)
	}
	a := tbl.ApiForHost("a.ns.example")
	if !tbl.MutualTLSOnly(a.Stage("prod")) || tbl.MutualTLSOnly(a.Stage("dev")) {
		t.Error("only stage prod is mapped by a mutual TLS domain")
	}
	if !tbl.Domain("m.example.com").MutualTLS() {
		t.Error("the domain is mutual TLS")
	}
}

func TestNewRejectsBrokenDomains(t *testing.T) {
	good := func() *Domain {
		return &Domain{Hostname: "x.example.com", Mappings: []*Mapping{apiMapping("", "prod")}}
	}
	upper, dupBase, unknownStage, noTLS, badVersion, mtlsNoCA, defaultHost, empty :=
		good(), good(), good(), good(), good(), good(), good(), good()
	upper.Hostname = "X.example.com"
	dupBase.Mappings = append(dupBase.Mappings, apiMapping("", "dev"))
	unknownStage.Mappings[0].Stage = "qa"
	noTLS.TLS = &TLS{Secret: "ns/s", MinVersion: TLSVersion12}
	badVersion.TLS = &TLS{Secret: "ns/s", MinVersion: "1.1", Err: "x"}
	mtlsNoCA.TLS = &TLS{Secret: "ns/s", MinVersion: TLSVersion13, ClientCASecret: "ns/ca", Certificate: &tls.Certificate{}}
	defaultHost.Hostname = "a.ns.example"
	empty.Mappings = nil
	tests := []struct {
		name    string
		domains []*Domain
		want    string
	}{
		{"an upper-case hostname", []*Domain{upper}, "lower-case"},
		{"a basePath mapped twice", []*Domain{dupBase}, `basePath "" is mapped twice`},
		{"a mapping to a stage the table does not serve", []*Domain{unknownStage}, "does not serve"},
		{"TLS without a certificate", []*Domain{noTLS}, "without a certificate"},
		{"an unknown TLS version", []*Domain{badVersion}, "minimum version"},
		{"mutual TLS without client CAs", []*Domain{mtlsNoCA}, "without client CAs"},
		{"a domain that is a default endpoint host", []*Domain{defaultHost}, "default endpoint host"},
		{"a domain without mappings", []*Domain{empty}, "no mappings"},
		{"a hostname twice", []*Domain{good(), good()}, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := domainTable(t, tc.domains...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewWithDomains = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
