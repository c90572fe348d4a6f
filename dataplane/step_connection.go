package dataplane

import (
	"net/textproto"
	"strings"
)

// dropConnectionHeaders removes from an HTTP/1.x request the headers its
// client named in Connection, before the gateway sets any header of its own.
// ReverseProxy removes them too, but from the outgoing request, after the
// chain has put X-Request-Id, traceparent and mapped headers there: a client
// sending "Connection: x-user, x-request-id" would otherwise strip them from
// what the backend gets (the CVE-2021-33197 pattern). The chain (authorizers,
// mappings) thus sees what the backend would: hop-by-hop headers are not the
// client's request to the backend. An upgrade is kept as ReverseProxy reads
// it: "Connection: Upgrade" and the Upgrade header stay (rewrite.go strips
// h2c). HTTP/2 and HTTP/3 have no Connection header (the server refuses it).
func (x *exchange) dropConnectionHeaders() bool {
	h := x.r.Header
	conn := h["Connection"]
	if x.r.ProtoMajor != 1 || len(conn) == 0 {
		return true
	}
	upgrade := false
	for _, v := range conn {
		for tok := range strings.SplitSeq(v, ",") {
			tok = textproto.TrimString(tok)
			switch {
			case strings.EqualFold(tok, "upgrade"):
				upgrade = true
			case tok != "":
				delete(h, textproto.CanonicalMIMEHeaderKey(tok))
			}
		}
	}
	if upgrade {
		h["Connection"] = []string{"Upgrade"}
	} else {
		delete(h, "Connection")
	}
	return true
}
