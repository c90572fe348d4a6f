package translate

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the translator's output")

// testOptions are the options of every golden case; a case may change
// some of them in a "kind: Options" document (caseOptions).
var testOptions = Options{DefaultDomain: "execute-api.localhost", Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}

// golden is what a case's .out.yaml holds: the Result (table and statuses)
// and, when the case has EndpointSlices, the endpoint sets.
type golden struct {
	Table        *table.Table       `json:"table"`
	Statuses     []ObjectStatus     `json:"statuses"`
	EndpointSets table.EndpointSets `json:"endpointSets,omitempty"`
	// NextChange is Result.NextChange (omitted when zero).
	NextChange time.Time `json:"nextChange,omitzero"`
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			s, opts := loadCaseWithOptions(t, in)
			res := Translate(s, opts)
			if res.Err != nil {
				t.Fatalf("table.New rejected the translator's table (translator bug): %v", res.Err)
			}
			got, err := yaml.Marshal(golden{Table: res.Table, Statuses: res.Statuses, EndpointSets: EndpointSets(s), NextChange: res.NextChange})
			if err != nil {
				t.Fatal(err)
			}
			out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./controllers/translate -update)", err)
			}
			if diff := cmp.Diff(generic(t, want), generic(t, got)); diff != "" {
				t.Errorf("%s differs from the translator's output (-want +got); if the change is intended, run go test ./controllers/translate -update\n%s", out, diff)
			}
		})
	}
}

func loadCase(t testing.TB, path string) *Snapshot {
	t.Helper()
	s, _ := loadCaseWithOptions(t, path)
	return s
}

// loadCaseWithOptions reads a case's snapshot and its options (caseOptions).
func loadCaseWithOptions(t testing.TB, path string) (*Snapshot, Options) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	opts, err := caseOptions(data)
	if err != nil {
		t.Fatalf("%s: Options: %v", path, err)
	}
	return s, opts
}

// generic turns YAML into maps and slices, so go-cmp prints a structural diff.
func generic(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
