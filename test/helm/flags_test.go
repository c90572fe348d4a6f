package helm

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"

	"sigs.k8s.io/yaml"
)

// flagValues maps the flags of `turnpike serve` that are not set through
// gateway.<camelCase> to where the chart sets them ("" for never).
var flagValues = map[string]string{
	// In a Pod the gateway always uses its ServiceAccount (in-cluster config).
	"kubeconfig": "",
	// Read from a Secret into $(REDIS_URL), never written into the Deployment.
	"redis-url": "redis.existingSecret",
}

// serveFlags returns the flag names of `turnpike serve`, read from its -h output.
func serveFlags(t *testing.T) []string {
	t.Helper()
	out, _ := exec.Command(harness.Build(t, "./cmd/turnpike"), "serve", "-h").CombinedOutput()
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("read only %v from `turnpike serve -h`:\n%s", names, out)
	}
	return names
}

// pendingFlags are the flags the chart has values for before the binary has
// them (the turnpike.io/pending-flags annotation of Chart.yaml).
func pendingFlags(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	var pending []string
	for _, f := range strings.Split(chart.Annotations["turnpike.io/pending-flags"], ",") {
		if f = strings.TrimSpace(f); f != "" {
			pending = append(pending, f)
		}
	}
	return pending
}

// camel turns a flag name into its value name: deny-egress-cidrs is denyEgressCidrs.
func camel(flag string) string {
	parts := strings.Split(flag, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// gatewayKeys returns the keys of the gateway section of values.yaml and of
// values.schema.json.
func gatewayKeys(t *testing.T) (values, schema map[string]bool) {
	t.Helper()
	var v struct {
		Gateway map[string]any `json:"gateway"`
	}
	data, err := os.ReadFile(filepath.Join(chartDir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties struct {
			Gateway struct {
				Properties map[string]any `json:"properties"`
			} `json:"gateway"`
		} `json:"properties"`
	}
	data, err = os.ReadFile(filepath.Join(chartDir(), "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	values, schema = map[string]bool{}, map[string]bool{}
	for k := range v.Gateway {
		values[k] = true
	}
	for k := range s.Properties.Gateway.Properties {
		schema[k] = true
	}
	return values, schema
}

// TestEveryGatewayFlagHasAChartValue reads the flags from `turnpike serve -h`
// and requires a gateway.<camelCase> value in values.yaml and the schema for
// each (or an entry in flagValues), and that testdata/every-flag-values.yaml
// renders it into the Deployment's args. A flag added to the binary fails
// here until the chart passes it.
func TestEveryGatewayFlagHasAChartValue(t *testing.T) {
	values, schema := gatewayKeys(t)
	rendered := map[string]int{}
	for _, a := range args(t, template(t, "ns", "-f", testdata("every-flag-values.yaml"))) {
		if name, _, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok {
			rendered[name]++
		}
	}
	flags := append(serveFlags(t), pendingFlags(t)...)
	slices.Sort(flags)
	for _, f := range flags {
		if where, ok := flagValues[f]; ok {
			if where != "" && rendered[f] != 1 {
				t.Errorf("--%s (set by %s) is rendered %d times by every-flag-values.yaml, want once", f, where, rendered[f])
			}
			continue
		}
		k := camel(f)
		if !values[k] || !schema[k] {
			t.Errorf("--%s has no chart value: add gateway.%s to charts/turnpike/values.yaml (in values: %v) and values.schema.json (in schema: %v)", f, k, values[k], schema[k])
		}
		if rendered[f] != 1 {
			t.Errorf("--%s is rendered %d times by testdata/every-flag-values.yaml, want once: set gateway.%s there", f, rendered[f], k)
		}
	}
}

// TestEveryChartValueIsAGatewayFlag refuses gateway values that match no
// flag of the binary and no pending flag (a typo would be passed to the
// binary, which exits on unknown flags).
func TestEveryChartValueIsAGatewayFlag(t *testing.T) {
	known := map[string]bool{"extraArgs": true}
	for _, f := range append(serveFlags(t), pendingFlags(t)...) {
		known[camel(f)] = true
	}
	values, schema := gatewayKeys(t)
	for k := range values {
		if !known[k] {
			t.Errorf("values.yaml gateway.%s matches no flag of `turnpike serve` and no pending flag", k)
		}
	}
	for k := range schema {
		if !known[k] {
			t.Errorf("values.schema.json gateway.%s matches no flag of `turnpike serve` and no pending flag", k)
		}
	}
}

// TestRenderedArgsAreAcceptedByTheGatewayBinary parses the args rendered from
// the default, production and every-flag values with the real binary (`serve
// ARGS -h` exits 0 only when every flag exists and every value parses).
// Pending flags the binary does not have yet are left out.
func TestRenderedArgsAreAcceptedByTheGatewayBinary(t *testing.T) {
	have := map[string]bool{}
	for _, f := range serveFlags(t) {
		have[f] = true
	}
	for _, values := range []string{"", "production-values.yaml", "every-flag-values.yaml"} {
		extra := []string{}
		if values != "" {
			extra = []string{"-f", testdata(values)}
		}
		rendered := args(t, template(t, "ns", extra...))
		if rendered[0] != "serve" {
			t.Fatalf("args start with %q, want serve", rendered[0])
		}
		cmdArgs := []string{"serve"}
		for _, a := range rendered[1:] {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if have[name] {
				cmdArgs = append(cmdArgs, a)
			}
		}
		out, err := exec.Command(harness.Build(t, "./cmd/turnpike"), append(cmdArgs, "-h")...).CombinedOutput()
		if err != nil {
			t.Errorf("values %q: the gateway refuses %v: %v\n%s", values, cmdArgs, err, out)
		}
	}
}
