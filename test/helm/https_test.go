package helm

import (
	"slices"
	"strings"
	"testing"
)

// gateway.httpsAddr "" runs the gateway without an HTTPS listener: the chart
// passes --https-addr= explicitly (leaving the flag out would start the
// binary's default :8443 listener behind no port) and opens no https port.
func TestAnEmptyHTTPSAddrRunsTheGatewayWithoutAnHTTPSListener(t *testing.T) {
	objs := template(t, "ns", "--set", "gateway.httpsAddr=")
	if got := args(t, objs); !slices.Contains(got, "--https-addr=") {
		t.Errorf("args %v lack --https-addr=", got)
	}
	svc := find(t, objs, "Service", "turnpike")
	ports, _ := svc.Object["spec"].(map[string]any)["ports"].([]any)
	for _, p := range ports {
		if strings.Contains(p.(map[string]any)["name"].(string), "https") {
			t.Errorf("the Service still has an https port: %v", ports)
		}
	}
	defaults := args(t, template(t, "ns"))
	if !slices.Contains(defaults, "--https-addr=:8443") {
		t.Errorf("default args %v lack --https-addr=:8443", defaults)
	}
}
