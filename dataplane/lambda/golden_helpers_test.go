package lambda

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// samplesDir is aws-lambda-go's events/testdata in the module cache, found
// as `go list -m -json` reports the module (the version go.mod requires).
var samplesDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-json", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m github.com/aws/aws-lambda-go: %w", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go list -m gave no Dir: %s", out)
	}
	return filepath.Join(m.Dir, "events", "testdata"), nil
})

// sample reads one of AWS's sample events.
func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	dir, err := samplesDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return decodeMap(t, raw)
}

func decodeMap(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, raw)
	}
	return m
}

// flatten maps every leaf of a decoded JSON object (scalars, arrays and
// empty objects) to its path, members joined with "/".
func flatten(prefix string, v any, out map[string]any) map[string]any {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		for k, x := range m {
			flatten(prefix+"/"+k, x, out)
		}
		return out
	}
	out[prefix] = v
	return out
}

// goldenCase compares the event Turnpike built with AWS's sample. Every
// leaf of the sample must be in the event with the same value, except
// paths under ignore (normalisations, each with its reason); the event may
// hold more only under extra (keys AWS sends that the sample leaves out).
type goldenCase struct {
	sample string
	ignore map[string]string // path prefix → why it cannot match
	extra  map[string]string // path prefix → why the event has it
	adjust func(m map[string]any)
}

func (g goldenCase) check(t *testing.T, event []byte) {
	t.Helper()
	want := sample(t, g.sample)
	if g.adjust != nil {
		g.adjust(want)
	}
	got := decodeMap(t, event)
	w, e := flatten("", want, map[string]any{}), flatten("", got, map[string]any{})
	var problems []string
	for p, v := range w {
		if covered(p, g.ignore) {
			continue
		}
		x, ok := e[p]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing %s (sample: %#v)", p, v))
		case !reflect.DeepEqual(x, v):
			problems = append(problems, fmt.Sprintf("%s = %#v, sample %#v", p, x, v))
		}
	}
	for p, x := range e {
		if _, ok := w[p]; !ok && !covered(p, g.ignore) && !covered(p, g.extra) {
			problems = append(problems, fmt.Sprintf("unexpected %s = %#v", p, x))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Errorf("%s differs:\n  %s\nevent: %s", g.sample, strings.Join(problems, "\n  "), event)
	}
}

func covered(p string, prefixes map[string]string) bool {
	for pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// lossless decodes event into typ (a pointer to an aws-lambda-go event
// type), encodes that again, and checks that every leaf of the event
// survived, except the paths under missing (fields the type lacks).
func lossless(t *testing.T, event []byte, typ any, missing ...string) {
	t.Helper()
	if err := json.Unmarshal(event, typ); err != nil {
		t.Fatalf("does not decode into %T: %v", typ, err)
	}
	again, err := json.Marshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	skip := map[string]string{}
	for _, p := range missing {
		skip[p] = ""
	}
	orig := flatten("", decodeMap(t, event), map[string]any{})
	back := flatten("", decodeMap(t, again), map[string]any{})
	for p, v := range orig {
		if v == nil || covered(p, skip) {
			continue
		}
		x, ok := back[p]
		if !ok && (v == false || v == "" || v == 0.0) {
			continue // an omitempty field of the type: the zero value it decodes to
		}
		if !ok || !reflect.DeepEqual(x, v) {
			t.Errorf("%T loses %s: %#v became %#v", typ, p, v, x)
		}
	}
}

// certTime parses a validity date as AWS renders it.
func certTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(certTimeLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sampleCert is the client certificate of the HTTP API samples.
func sampleCert(t *testing.T) *ClientCert {
	return &ClientCert{
		PEM:          "-----BEGIN CERTIFICATE-----\nMIIEZTCCAk0CAQEwDQ...",
		IssuerDN:     "C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Private CA",
		SerialNumber: "1",
		SubjectDN:    "C=US,ST=Washington,L=Seattle,O=Amazon Web Services,OU=Security,CN=My Client",
		NotAfter:     certTime(t, "Aug  5 00:28:21 2120 GMT"), NotBefore: certTime(t, "Aug 29 00:28:21 2020 GMT"),
	}
}

// exampleCert is the client certificate of the AWS documentation's
// examples.
func exampleCert(t *testing.T) *ClientCert {
	return &ClientCert{
		PEM: "CERT_CONTENT", SubjectDN: "www.example.com", IssuerDN: "Example issuer",
		SerialNumber: "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
		NotBefore:    certTime(t, "May 28 12:30:02 2019 GMT"), NotAfter: certTime(t, "Aug  5 09:36:04 2021 GMT"),
	}
}

// lowercaseHeaders lowercases the header names of a 2.0 sample: AWS sends
// them lowercased ("All header names are lowercase",
// DG:http-api-develop-integrations-lambda), some samples do not.
func lowercaseHeaders(m map[string]any) {
	h, _ := m["headers"].(map[string]any)
	for k, v := range h {
		delete(h, k)
		h[strings.ToLower(k)] = v
	}
}
