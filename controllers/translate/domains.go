package translate

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Custom domains (Stage spec.domains), api.md "Custom domains":
//   - Claims are made by Accepted Stages, oldest first (translateStages' order).
//     The first claim of a hostname owns it for its namespace and sets its TLS
//     settings. A claim from another namespace, a claim with other TLS settings
//     (tls absent counts as a setting: plain HTTP only), a (hostname, basePath)
//     claimed before, and a hostname under the default domain get
//     DomainConflict. A conflicting mapping is not served; the Stage keeps
//     serving its default endpoint and its other mappings (Programmed=False,
//     Stalled=True).
//   - TLS Secrets are resolved from the snapshot: a kubernetes.io/tls Secret
//     whose tls.crt and tls.key form a key pair, valid at Options.Now (zero:
//     expiry unchecked), whose certificate covers the hostname; the client CA
//     Secret's ca.crt must hold at least one PEM certificate. A problem fails
//     only that hostname: its table TLS carries the error (handshakes refused)
//     and the Stage gets ResolvedRefs=False (SecretNotFound with
//     Reconciling=True, as the Secret may still appear; InvalidCertificate with
//     Stalled=True). Plain HTTP on a hostname without mutual TLS still serves.
//   - invokeURLs list the served, working mappings as the running replicas
//     serve them: https://host/basePath when the hostname has TLS and the
//     gateway an HTTPS listener, http://host/basePath otherwise; a hostname
//     with TLS on a gateway without an HTTPS listener (Options.NoHTTPSListener)
//     gets NoHTTPSListener (Programmed=False, Stalled=True): served over plain
//     HTTP only, or not at all with mutual TLS.
//   - A certificate's notBefore and notAfter are noted as times at which the
//     result changes (Result.NextChange), so expiry shows without an edit.

// Data keys of kubernetes.io/tls Secrets.
const (
	secretCertKey = corev1.TLSCertKey       // tls.crt
	secretKeyKey  = corev1.TLSPrivateKeyKey // tls.key
	secretCAKey   = "ca.crt"
)

// domainState is what the translator decided about custom domains so far.
type domainState struct {
	now     time.Time
	secrets map[string]*corev1.Secret // TLS and API-key Secrets by namespace/name
	owners  map[string]domainOwner    // hostname -> owning claim
	paths   map[string]string         // hostname NUL basePath -> Stage name
	tls     map[string]tlsResult      // hostname NUL settings -> resolved TLS
	served  map[string]*table.Domain  // hostname -> table entry
}

// domainOwner is the claim that owns a hostname.
type domainOwner struct {
	namespace, stage, settings string
}

// tlsResult is a hostname's resolved TLS and the issue that broke it.
type tlsResult struct {
	tls   *table.TLS
	issue *issue
}

func newDomainState(secrets []corev1.Secret, now time.Time) *domainState {
	d := &domainState{
		now: now, secrets: make(map[string]*corev1.Secret, len(secrets)),
		owners: map[string]domainOwner{}, paths: map[string]string{},
		tls: map[string]tlsResult{}, served: map[string]*table.Domain{},
	}
	for i := range secrets {
		d.secrets[secrets[i].Namespace+"/"+secrets[i].Name] = &secrets[i]
	}
	return d
}

// tlsSettings is the comparable form of a claim's TLS settings ("" = none).
func tlsSettings(t *v1alpha1.DomainTLS) string {
	if t == nil {
		return ""
	}
	return t.SecretName + "\x00" + cmp.Or(t.MinVersion, table.TLSVersion12) + "\x00" + t.ClientCASecretName
}

// stageDomains claims, resolves and (for a served stage) maps the Stage's
// domains, and folds their problems into st.v and st.status.InvokeURLs. It
// runs for Accepted Stages only, in translateStages' order.
func (tr *translator) stageDomains(st *stageState) {
	obj, v := st.obj, &st.v
	var conflicts, broken, listener []*issue
	for i := range obj.Spec.Domains {
		d := &obj.Spec.Domains[i]
		host, base := strings.ToLower(d.Hostname), strings.Trim(d.BasePath, "/")
		if iss := tr.claimDomain(obj, host, base, d.TLS); iss != nil {
			conflicts = append(conflicts, iss)
			continue
		}
		res := tr.domainTLS(obj.Namespace, host, d.TLS)
		if res.issue != nil {
			broken = append(broken, res.issue)
		}
		if d.TLS != nil && tr.noHTTPS {
			listener = append(listener, noHTTPSListener(host, d.TLS))
		}
		if st.table == nil {
			continue
		}
		tr.mapDomain(host, base, res.tls, st)
		if url := tr.servedURL(host, base, d.TLS); res.issue == nil && url != "" {
			st.status.InvokeURLs = append(st.status.InvokeURLs, url)
		}
	}
	all := slices.Concat(conflicts, broken, listener)
	if len(all) == 0 {
		return
	}
	if len(broken) > 0 {
		v.resolved = cmp.Or(v.resolved, joinIssues(broken...))
	}
	v.programmed = cmp.Or(v.programmed, joinIssues(all...))
}

// servedURL is the invoke URL of a working mapping as the running replicas
// serve it: https:// with TLS and an HTTPS listener, http:// without TLS or
// (TLS without client certificates) without an HTTPS listener, "" when a
// mutual-TLS hostname cannot be reached at all.
func (tr *translator) servedURL(host, base string, t *v1alpha1.DomainTLS) string {
	switch {
	case t == nil:
		return domainURL(host, base, false)
	case !tr.noHTTPS:
		return domainURL(host, base, true)
	case t.ClientCASecretName == "":
		return domainURL(host, base, false)
	}
	return ""
}

// noHTTPSListener is the issue of a TLS hostname on a gateway without an
// HTTPS listener; only the operator can fix it.
func noHTTPSListener(host string, t *v1alpha1.DomainTLS) *issue {
	served := "so it is served over plain HTTP only"
	if t.ClientCASecretName != "" {
		served = "and mutual TLS needs HTTPS, so it is not served at all"
	}
	return &issue{
		reason: v1alpha1.ReasonNoHTTPSListener,
		message: "spec.domains: hostname " + quote(host) + " has tls, but the gateway runs without an HTTPS listener (--https-addr is empty), " +
			served + "; start the gateway with --https-addr or remove tls",
		stalled: true,
	}
}

// claimDomain claims (host, base) for the Stage and returns the
// DomainConflict issue, or nil when the Stage holds the claim.
func (tr *translator) claimDomain(obj *v1alpha1.Stage, host, base string, t *v1alpha1.DomainTLS) *issue {
	conflict := func(what string) *issue {
		return &issue{reason: v1alpha1.ReasonDomainConflict, stalled: true,
			message: "spec.domains: " + what + " (that mapping is not served)"}
	}
	if host == tr.domain || strings.HasSuffix(host, "."+tr.domain) {
		return conflict("hostname " + quote(host) + " is under the gateway's default domain " + quote(tr.domain) + "; use another hostname")
	}
	settings := tlsSettings(t)
	owner, owned := tr.domains.owners[host]
	switch {
	case !owned:
		tr.domains.owners[host] = domainOwner{namespace: obj.Namespace, stage: obj.Name, settings: settings}
	case owner.namespace != obj.Namespace:
		return conflict(fmt.Sprintf("hostname %q belongs to namespace %q (Stage %q claimed it first); use another hostname", host, owner.namespace, owner.stage))
	case owner.settings != settings:
		return conflict(fmt.Sprintf("hostname %q has other TLS settings in Stage %q, which claimed it first; use the same tls block", host, owner.stage))
	}
	key := host + "\x00" + base
	if prev, taken := tr.domains.paths[key]; taken {
		if prev == obj.Name {
			return conflict(fmt.Sprintf("hostname %q with basePath %q appears twice; remove one", host, base))
		}
		return conflict(fmt.Sprintf("hostname %q with basePath %q is mapped by Stage %q (created first); change the basePath", host, base, prev))
	}
	tr.domains.paths[key] = obj.Name
	return nil
}

// mapDomain adds the mapping (host, base) -> st to the table's domains. Every
// mapping of a hostname has the owner's TLS settings, so the first one sets
// the hostname's TLS.
func (tr *translator) mapDomain(host, base string, t *table.TLS, st *stageState) {
	d := tr.domains.served[host]
	if d == nil {
		d = &table.Domain{Hostname: host, TLS: t, Mappings: []*table.Mapping{}}
		tr.domains.served[host] = d
	}
	d.Mappings = append(d.Mappings, &table.Mapping{
		BasePath: base, Namespace: st.obj.Namespace, Api: st.obj.Spec.ApiName, Stage: st.name,
	})
}

// servedDomains lists the table's domains (table.New sorts them).
func (tr *translator) servedDomains() []*table.Domain {
	out := make([]*table.Domain, 0, len(tr.domains.served))
	for _, d := range tr.domains.served {
		out = append(out, d)
	}
	return out
}

// domainURL is a mapping's invoke URL.
func domainURL(host, base string, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + host + "/" + base
}

// domainTLS resolves the TLS settings t of host in namespace ns once per
// (host, settings); nil t is plain HTTP only.
func (tr *translator) domainTLS(ns, host string, t *v1alpha1.DomainTLS) tlsResult {
	if t == nil {
		return tlsResult{}
	}
	key := host + "\x00" + tlsSettings(t)
	if res, done := tr.domains.tls[key]; done {
		return res
	}
	out := &table.TLS{Secret: ns + "/" + t.SecretName, MinVersion: cmp.Or(t.MinVersion, table.TLSVersion12)}
	if t.ClientCASecretName != "" {
		out.ClientCASecret = ns + "/" + t.ClientCASecretName
	}
	iss := tr.loadCertificate(out, ns, host, t.SecretName)
	if iss == nil && t.ClientCASecretName != "" {
		iss = tr.loadClientCAs(out, ns, host, t.ClientCASecretName)
	}
	if iss != nil {
		out.Err, out.Certificate, out.ClientCAs = iss.message, nil, nil
	}
	res := tlsResult{tls: out, issue: iss}
	tr.domains.tls[key] = res
	return res
}

// tlsSecret finds a kubernetes.io/tls Secret or returns the issue.
func (tr *translator) tlsSecret(ns, name, host, role string) (*corev1.Secret, *issue) {
	s := tr.domains.secrets[ns+"/"+name]
	if s == nil {
		return nil, &issue{
			reason:  v1alpha1.ReasonSecretNotFound,
			message: fmt.Sprintf("%s Secret %q of hostname %q not found in namespace %q; create it as type kubernetes.io/tls (HTTPS to that hostname is refused until then)", role, name, host, ns),
			waiting: true,
		}
	}
	if s.Type != corev1.SecretTypeTLS {
		return nil, badCertificate(host, fmt.Sprintf("%s Secret %q has type %s, not kubernetes.io/tls", role, name, s.Type))
	}
	return s, nil
}

// badCertificate is the InvalidCertificate issue of host.
func badCertificate(host, what string) *issue {
	return &issue{
		reason:  v1alpha1.ReasonInvalidCertificate,
		message: what + "; fix the Secret (HTTPS to hostname " + quote(host) + " is refused until then)",
		stalled: true,
	}
}

// loadCertificate parses the key pair of Secret name into out.
func (tr *translator) loadCertificate(out *table.TLS, ns, host, name string) *issue {
	s, iss := tr.tlsSecret(ns, name, host, "TLS")
	if iss != nil {
		return iss
	}
	cert, err := tls.X509KeyPair(s.Data[secretCertKey], s.Data[secretKeyKey])
	if err == nil && cert.Leaf == nil {
		cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0])
	}
	if err != nil {
		return badCertificate(host, fmt.Sprintf("Secret %q: tls.crt and tls.key are not a usable key pair (%v)", name, err))
	}
	leaf := cert.Leaf
	out.Serial, out.NotAfter = leaf.SerialNumber.Text(16), leaf.NotAfter.UTC()
	// The verdict below changes when the certificate becomes valid and just
	// after it expires (x509: valid while notBefore <= now <= notAfter).
	tr.noteChange(leaf.NotBefore)
	tr.noteChange(leaf.NotAfter.Add(time.Nanosecond))
	switch {
	case !tr.domains.now.IsZero() && tr.domains.now.After(leaf.NotAfter):
		return badCertificate(host, fmt.Sprintf("the certificate in Secret %q expired at %s", name, leaf.NotAfter.UTC().Format(time.RFC3339)))
	case !tr.domains.now.IsZero() && tr.domains.now.Before(leaf.NotBefore):
		return badCertificate(host, fmt.Sprintf("the certificate in Secret %q is not valid before %s", name, leaf.NotBefore.UTC().Format(time.RFC3339)))
	case leaf.VerifyHostname(host) != nil:
		return badCertificate(host, fmt.Sprintf("the certificate in Secret %q does not cover hostname %q (it covers %s)", name, host, certNames(leaf)))
	}
	out.Certificate = &cert
	return nil
}

// loadClientCAs parses ca.crt of Secret name into out.
func (tr *translator) loadClientCAs(out *table.TLS, ns, host, name string) *issue {
	s, iss := tr.tlsSecret(ns, name, host, "client CA")
	if iss != nil {
		return iss
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.Data[secretCAKey]) {
		return badCertificate(host, fmt.Sprintf("client CA Secret %q has no PEM certificate in ca.crt", name))
	}
	out.ClientCAs = pool
	return nil
}

// certNames lists the DNS names of a certificate, for messages.
func certNames(c *x509.Certificate) string {
	names := slices.Clone(c.DNSNames)
	if len(names) == 0 {
		return "no DNS names"
	}
	for i, n := range names {
		names[i] = quote(n)
	}
	return strings.Join(names, ", ")
}
