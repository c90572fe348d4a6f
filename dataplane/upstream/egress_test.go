package upstream

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestEgressGuardCheck(t *testing.T) {
	g := NewEgressGuard(append(DefaultDenyEgress(true), netip.MustParsePrefix("::ffff:10.0.0.0/104")))
	cases := []struct {
		name   string
		addr   string
		denied bool
	}{
		{"the metadata address is denied", "169.254.169.254", true},
		{"an IPv4-mapped metadata address is denied", "::ffff:169.254.169.254", true},
		{"an IPv6 link-local address with a zone is denied", "fe80::1%eth0", true},
		{"loopback is denied in serve mode", "127.0.0.2", true},
		{"IPv6 loopback is denied in serve mode", "::1", true},
		{"the unspecified address is denied in serve mode", "0.0.0.0", true},
		{"an IPv4-mapped deny prefix applies to plain IPv4", "10.1.2.3", true},
		{"a pod address is allowed", "172.16.0.5", false},
		{"a public IPv6 address is allowed", "2001:db8::1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := g.Check(netip.MustParseAddr(c.addr))
			if (err != nil) != c.denied {
				t.Fatalf("Check(%s) = %v, want denied=%v", c.addr, err, c.denied)
			}
			if c.denied && (!errors.Is(err, ErrEgressDenied) || !strings.Contains(err.Error(), "egress denied")) {
				t.Fatalf("error %v does not say egress denied", err)
			}
		})
	}
}

func TestDefaultDenyEgressStandaloneAllowsLoopback(t *testing.T) {
	g := NewEgressGuard(DefaultDenyEgress(false))
	if err := g.Check(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Fatalf("standalone mode denies loopback: %v", err)
	}
	if err := g.Check(netip.MustParseAddr("169.254.169.254")); err == nil {
		t.Fatal("standalone mode allows link-local")
	}
}

func TestDialerRefusesDeniedAddressAfterResolution(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run("dialing "+host+" into a denied range fails", func(t *testing.T) {
			d := NewDialer(DefaultDenyEgress(true))
			c, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(host, port))
			if err == nil {
				_ = c.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, ErrEgressDenied) || !strings.Contains(err.Error(), "egress denied") {
				t.Fatalf("err = %v, want egress denied", err)
			}
		})
	}
	t.Run("dialing an allowed address connects", func(t *testing.T) {
		d := NewDialer(DefaultDenyEgress(false))
		c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	})
}

func TestEgressGuardFailsClosedOnUnparsableAddress(t *testing.T) {
	err := NewEgressGuard(nil).Control("tcp", "not-an-address", nil)
	if !errors.Is(err, ErrEgressDenied) {
		t.Fatalf("Control = %v, want egress denied", err)
	}
}
