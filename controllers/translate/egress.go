package translate

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// loopback is what "localhost" and its subdomains resolve to (RFC 6761).
var loopback = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}

// egressIssue reports an HTTP_PROXY integration whose uri names an address
// the gateway refuses to dial (Options.DenyEgress): a literal IP in a denied
// range, or localhost when loopback is denied (serve mode). Requests to it
// always answer 502, so the Route (or the Stage, when only its stage
// variables lead there) must not claim to work. Host names other than
// localhost are resolved only at dial time, where the same guard applies.
func (tr *translator) egressIssue(r *v1alpha1.Route, in *table.Integration, st *stageState) *issue {
	if in.Type != table.IntegrationType(v1alpha1.IntegrationTypeHTTPProxy) || in.URI == "" || len(tr.denyEgress) == 0 {
		return nil
	}
	u, err := url.Parse(in.URI)
	if err != nil {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	addrs := loopback
	if host != "localhost" && !strings.HasSuffix(host, ".localhost") {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return nil
		}
		addrs = []netip.Addr{a.Unmap()}
	}
	for _, a := range addrs {
		for _, p := range tr.denyEgress {
			if !p.Contains(a) {
				continue
			}
			what := " is "
			if st != nil && in.URI != r.Spec.Integration.URI {
				what = " resolves in stage " + quote(st.name) + " to "
			}
			return &issue{
				reason: v1alpha1.ReasonEgressDenied,
				message: "spec.integration.uri" + what + quote(in.URI) + ", whose address " + a.String() +
					" the gateway may not dial (--deny-egress-cidrs includes " + p.String() + "); requests answer 502 until the uri points elsewhere",
				stalled: true,
			}
		}
	}
	return nil
}
