package upstream

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ErrEgressDenied is matched (errors.Is) by every error the egress guard
// returns, however the dialer and transport wrap it.
var ErrEgressDenied = errors.New("egress denied")

// EgressDeniedError says which resolved address was refused and which denied
// range it fell into. Its message starts with "egress denied" so that it is
// recognisable in logs even after wrapping.
type EgressDeniedError struct {
	// Address is the "ip:port" as the dialer gave it (empty from Check).
	Address string
	// Addr is the resolved address the dialer was about to connect to.
	Addr netip.Addr
	// Prefix is the denied range that contains Addr (invalid when Addr itself
	// could not be parsed: the guard fails closed).
	Prefix netip.Prefix
}

// Error implements error.
func (e *EgressDeniedError) Error() string {
	if !e.Prefix.IsValid() {
		return "egress denied: unparsable address " + e.Address
	}
	return "egress denied: " + e.Addr.String() + " is in " + e.Prefix.String()
}

// Is makes errors.Is(err, ErrEgressDenied) true.
func (e *EgressDeniedError) Is(target error) bool { return target == ErrEgressDenied }

// DefaultDenyEgress is the default of --deny-egress-cidrs: the link-local
// ranges (cloud metadata services live at 169.254.169.254 and fe80::), and in
// serve mode also loopback, because in a cluster a loopback target can only be
// the gateway pod itself (its admin and metrics ports). 0.0.0.0 and :: are
// denied with loopback because Linux connects them to the local host.
// Standalone mode allows loopback: there, local backends are the normal case.
func DefaultDenyEgress(serveMode bool) []netip.Prefix {
	deny := []netip.Prefix{
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("fe80::/10"),
	}
	if serveMode {
		deny = append(deny,
			netip.MustParsePrefix("127.0.0.0/8"),
			netip.MustParsePrefix("::1/128"),
			netip.MustParsePrefix("0.0.0.0/32"),
			netip.MustParsePrefix("::/128"),
		)
	}
	return deny
}

// EgressGuard refuses connections to denied address ranges. It checks the
// address the socket is about to connect to, after DNS resolution, so a
// hostname that resolves (or is rebound) into a denied range is refused too.
type EgressGuard struct {
	deny []netip.Prefix
}

// NewEgressGuard returns a guard for the given denied ranges. Prefixes are
// masked and IPv4-mapped IPv6 prefixes are unmapped so that
// "::ffff:169.254.0.0/112" and "169.254.0.0/16" deny the same addresses.
func NewEgressGuard(deny []netip.Prefix) *EgressGuard {
	g := &EgressGuard{deny: make([]netip.Prefix, 0, len(deny))}
	for _, p := range deny {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				bits = 0
			}
			p = netip.PrefixFrom(a.Unmap(), bits)
		}
		g.deny = append(g.deny, p.Masked())
	}
	return g
}

// Check returns an *EgressDeniedError when addr is in a denied range.
// IPv4-mapped addresses are checked as IPv4 and zones are ignored, so
// neither form slips past an IPv4 or link-local rule.
func (g *EgressGuard) Check(addr netip.Addr) error {
	if p, denied := g.match(addr); denied {
		return &EgressDeniedError{Addr: addr, Prefix: p}
	}
	return nil
}

func (g *EgressGuard) match(addr netip.Addr) (netip.Prefix, bool) {
	a := addr.Unmap().WithZone("")
	for _, p := range g.deny {
		if p.Contains(a) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// Control is a net.Dialer Control function: address is the resolved "ip:port"
// the socket is about to connect to. An address that does not parse is denied
// (fail closed).
func (g *EgressGuard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &EgressDeniedError{Address: address}
	}
	if p, denied := g.match(ap.Addr()); denied {
		return &EgressDeniedError{Address: address, Addr: ap.Addr(), Prefix: p}
	}
	return nil
}

// NewDialer returns a dialer whose every connection passes the egress guard
// for deny. All outbound traffic of the dataplane (integrations, authorizers,
// JWKS) must dial through such a dialer.
func NewDialer(deny []netip.Prefix) *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   NewEgressGuard(deny).Control,
	}
}
