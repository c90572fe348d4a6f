package dataplane

import (
	"fmt"
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
)

// guardMutualTLS is the mutual TLS step, after the stage is known: a stage that a mutual TLS
// domain maps is served only through a mutual TLS domain (whose client
// certificate resolveDomain checked), never through the default endpoint or
// a domain without client certificates.
func (x *exchange) guardMutualTLS() bool {
	if (x.domain != nil && x.domain.MutualTLS()) || !x.tbl.MutualTLSOnly(x.stage) {
		return true
	}
	x.fail(gatewayresp.Default4XX, http.StatusForbidden, msgTLSForbidden,
		fmt.Sprintf("stage %q is mapped by a mutual TLS custom domain and served only there", x.stage.Name))
	return false
}
