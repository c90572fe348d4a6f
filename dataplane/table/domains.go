package table

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TLS minimum versions of a custom domain (api.md, Stage domains tls.minVersion).
const (
	TLSVersion12 = "1.2"
	TLSVersion13 = "1.3"
)

// Domain is one custom domain: a hostname, its TLS settings and its API
// mappings. The translator gives a hostname to one namespace and one set of
// TLS settings (conflicting claims never reach the table).
//
// Invariants (checked by linkDomains): Hostname is lower-case, unique in the
// table and is no default endpoint host; Mappings is non-empty, sorted longest
// BasePath first (by segments), with unique BasePaths, each pointing at a
// stage of an Api of the table.
type Domain struct {
	// Hostname is the lower-case custom domain name, without port.
	Hostname string `json:"hostname"`
	// TLS is how the hostname is served over HTTPS; nil means plain HTTP only
	// (the handshake for this name is refused).
	TLS *TLS `json:"tls,omitempty"`
	// Mappings are the API mappings of the hostname, longest BasePath first.
	Mappings []*Mapping `json:"mappings"`
}

// Mapping is one API mapping: requests whose path starts with BasePath (on
// segment boundaries) go to Stage of the Api Namespace/Api, with BasePath
// stripped before route matching.
type Mapping struct {
	// BasePath is "" (the whole host) or segments joined by "/", without
	// leading or trailing slash.
	BasePath  string `json:"basePath"`
	Namespace string `json:"namespace"`
	Api       string `json:"api"`
	Stage     string `json:"stage"`

	segs  []string
	api   *Api
	stage *Stage
}

// TLS is the HTTPS configuration of one hostname: the certificate (parsed by
// the translator from a kubernetes.io/tls Secret), the minimum version and,
// for mutual TLS, the client CAs. When Err is set the hostname's handshakes
// are refused (never another certificate); plain HTTP is unaffected unless
// the hostname is mutual TLS.
//
// The key material is never marshalled: the admin /table view and golden
// files show only the identities (Secret names, serial, expiry).
type TLS struct {
	// Secret is "namespace/name" of the certificate's Secret.
	Secret string `json:"secret"`
	// MinVersion is TLSVersion12 or TLSVersion13.
	MinVersion string `json:"minVersion"`
	// ClientCASecret is "namespace/name" of the Secret whose ca.crt verifies
	// client certificates; "" means no mutual TLS.
	ClientCASecret string `json:"clientCASecret,omitempty"`
	// Serial is the leaf certificate's serial number (hex), for logs and status.
	Serial string `json:"serial,omitempty"`
	// NotAfter is the leaf certificate's expiry: handshakes after it are
	// refused even if no new table arrives.
	NotAfter time.Time `json:"notAfter,omitzero"`
	// Err says why the hostname's handshakes are refused; "" when it serves.
	Err string `json:"error,omitempty"`

	// Certificate is the parsed key pair; nil exactly when Err is set.
	Certificate *tls.Certificate `json:"-"`
	// ClientCAs verifies client certificates; set when ClientCASecret is set
	// and Err is empty.
	ClientCAs *x509.CertPool `json:"-"`
}

// MutualTLS reports whether the hostname requires verified client certificates.
func (t *TLS) MutualTLS() bool { return t != nil && t.ClientCASecret != "" }

// MutualTLS reports whether the domain requires verified client certificates:
// such a hostname is never served on plain HTTP.
func (d *Domain) MutualTLS() bool { return d.TLS.MutualTLS() }

// ApiRef returns the Api the mapping serves.
func (m *Mapping) ApiRef() *Api { return m.api }

// StageRef returns the stage the mapping serves.
func (m *Mapping) StageRef() *Stage { return m.stage }

// Segments is the number of path segments of BasePath (stripped from the
// request before route matching).
func (m *Mapping) Segments() int { return len(m.segs) }

// Domain returns the custom domain of host (lower-case, without port), or nil.
func (t *Table) Domain(host string) *Domain {
	if t == nil {
		return nil
	}
	return t.domains.byHost[host]
}

// MutualTLSOnly reports whether st is mapped by a mutual TLS domain: such a
// stage is served only through mutual TLS domains, never through its default
// endpoint or a domain without client certificates.
func (t *Table) MutualTLSOnly(st *Stage) bool {
	if t == nil {
		return false
	}
	return t.domains.mtlsStages[st]
}

// Match returns the mapping whose BasePath is the longest prefix of segs on
// segment boundaries ("v1" matches /v1 and /v1/x, never /v10), or nil.
func (d *Domain) Match(segs []string) *Mapping {
	for _, m := range d.Mappings {
		if len(m.segs) <= len(segs) && slices.Equal(m.segs, segs[:len(m.segs)]) {
			return m
		}
	}
	return nil
}

// domainIndex is the table's lookup structure over its Domains.
type domainIndex struct {
	byHost     map[string]*Domain
	mtlsStages map[*Stage]bool
}

// linkDomains sorts the domains and their mappings, points every mapping at
// its Api and stage and checks the Domain invariants.
func (t *Table) linkDomains() error {
	slices.SortFunc(t.Domains, func(a, b *Domain) int { return strings.Compare(a.Hostname, b.Hostname) })
	t.domains = domainIndex{byHost: make(map[string]*Domain, len(t.Domains)), mtlsStages: map[*Stage]bool{}}
	apis := make(map[string]*Api, len(t.Apis))
	for _, a := range t.Apis {
		apis[a.Namespace+"/"+a.Name] = a
	}
	var errs []error
	for _, d := range t.Domains {
		if err := t.linkDomain(d, apis); err != nil {
			errs = append(errs, fmt.Errorf("domain %q: %w", d.Hostname, err))
		}
	}
	return errors.Join(errs...)
}

func (t *Table) linkDomain(d *Domain, apis map[string]*Api) error {
	switch {
	case d.Hostname == "" || d.Hostname != strings.ToLower(d.Hostname):
		return errors.New("hostname must be non-empty and lower-case")
	case t.domains.byHost[d.Hostname] != nil:
		return errors.New("appears twice")
	case t.hosts[d.Hostname] != nil:
		return errors.New("is also a default endpoint host")
	case len(d.Mappings) == 0:
		return errors.New("has no mappings")
	}
	t.domains.byHost[d.Hostname] = d
	if err := d.TLS.validate(); err != nil {
		return err
	}
	for _, m := range d.Mappings {
		m.segs = nil
		if m.BasePath != "" {
			m.segs = strings.Split(m.BasePath, "/")
		}
		if m.api = apis[m.Namespace+"/"+m.Api]; m.api != nil {
			m.stage = m.api.Stage(m.Stage)
		}
		if m.stage == nil {
			return fmt.Errorf("mapping %q names stage %q of Api %s/%s, which the table does not serve", m.BasePath, m.Stage, m.Namespace, m.Api)
		}
		if d.MutualTLS() {
			t.domains.mtlsStages[m.stage] = true
		}
	}
	slices.SortFunc(d.Mappings, func(a, b *Mapping) int {
		return cmp.Or(len(b.segs)-len(a.segs), strings.Compare(a.BasePath, b.BasePath))
	})
	for i := 1; i < len(d.Mappings); i++ {
		if d.Mappings[i].BasePath == d.Mappings[i-1].BasePath {
			return fmt.Errorf("basePath %q is mapped twice", d.Mappings[i].BasePath)
		}
	}
	return nil
}

func (t *TLS) validate() error {
	switch {
	case t == nil:
		return nil
	case t.MinVersion != TLSVersion12 && t.MinVersion != TLSVersion13:
		return fmt.Errorf("TLS minimum version %q is not %q or %q", t.MinVersion, TLSVersion12, TLSVersion13)
	case t.Err != "":
		return nil
	case t.Certificate == nil:
		return errors.New("TLS without a certificate or an error")
	case t.MutualTLS() && t.ClientCAs == nil:
		return errors.New("mutual TLS without client CAs or an error")
	}
	return nil
}
