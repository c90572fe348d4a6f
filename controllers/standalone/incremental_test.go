package standalone

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// randomFile is one file of the random edit sequences: an Api, a Service, an
// EndpointSlice or some Routes (possibly duplicated across files), with or
// without a comment, or broken YAML (broken says so).
func randomFile(rng *rand.Rand) (text string, broken bool) {
	var b strings.Builder
	if rng.IntN(4) == 0 {
		b.WriteString("# a comment\n")
	}
	switch rng.IntN(10) {
	case 0:
		b.WriteString(apiYAML)
	case 8:
		api := []string{"pets", "cats"}[rng.IntN(2)]
		fmt.Fprintf(&b, "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: cats}\nspec: {}\n---\n"+
			"apiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: prod-%d}\nspec: {apiName: %s, stageName: prod}\n", rng.IntN(2), api)
	case 9:
		n := rng.IntN(5)
		fmt.Fprintf(&b, "%s", strings.Replace(routeYAML(fmt.Sprintf("c%d", n), fmt.Sprintf("GET /c%d", rng.IntN(2))), "apiName: pets", "apiName: cats", 1))
	case 1:
		b.WriteString("apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec: {ports: [{port: " + fmt.Sprint(80+rng.IntN(2)) + "}]}\n")
	case 2:
		b.WriteString("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: svc-1, labels: {kubernetes.io/service-name: svc}}\naddressType: IPv4\n" +
			"endpoints: [{addresses: [10.0.0." + fmt.Sprint(1+rng.IntN(3)) + "]}]\n")
	case 3:
		b.WriteString("this: [is not yaml\n")
		broken = true
	default:
		for range 1 + rng.IntN(3) {
			n := rng.IntN(5)
			fmt.Fprintf(&b, "---\n%s", routeYAML(fmt.Sprintf("r%d", n), fmt.Sprintf("GET /r%d/%d", n, rng.IntN(2))))
		}
	}
	return b.String(), broken
}

// TestIncrementalReloadEqualsAFreshLoad edits a directory at random and
// checks after every Reload that the snapshot equals the one a new Loader
// reads from the same files (a broken file as its last good version), that "changed" is reported exactly when the
// snapshot differs from the previous one, and that the Loader's combined
// fingerprint changes exactly when controllers.Fingerprint does, and that
// the incremental translation over the Loader's sums
// (controllers.IncrementalTranslate) equals the full one.
func TestIncrementalReloadEqualsAFreshLoad(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { checkRandomEdits(t, seed) })
	}
}

func checkRandomEdits(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 18))
	// good mirrors dir with every broken file at its last good version.
	dir, good := t.TempDir(), t.TempDir()
	l, err := NewLoader(dir, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	prev, _, err := l.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prevFP, _ := l.Fingerprint(prev)
	prevFull, _ := controllers.Fingerprint(prev)
	incremental := controllers.IncrementalTranslate(l.Sums)
	opts := translate.Options{GracePeriod: -1, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for step := range 40 {
		name := fmt.Sprintf("f%d.yaml", rng.IntN(5))
		what := "write " + name
		if rng.IntN(6) == 0 {
			what = "remove " + name
			_ = os.Remove(filepath.Join(dir, name))
			_ = os.Remove(filepath.Join(good, name))
		} else {
			text, broken := randomFile(rng)
			writeFile(t, dir, name, text)
			if !broken {
				writeFile(t, good, name, text)
			}
		}
		snap, changed, err := l.Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// A new Loader sharing l's validator (compiling the CEL rules again
		// for every step would make the test slow).
		fl := &Loader{dir: good, log: logr.Discard(), converter: l.converter, files: map[string]*fileState{}}
		fresh, _, err := fl.Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(snap, fresh) {
			t.Fatalf("step %d (%s): the reloaded snapshot differs from a fresh load", step, what)
		}
		if changed != !equality.Semantic.DeepEqual(snap, prev) || (!changed && snap != prev) {
			t.Fatalf("step %d (%s): changed = %v, but the snapshots are equal: %v", step, what, changed, !changed)
		}
		fp, err := l.Fingerprint(snap)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := controllers.Fingerprint(snap)
		if (fp == prevFP) != (full == prevFull) {
			t.Fatalf("step %d (%s): combined fingerprint equal %v, full fingerprint equal %v", step, what, fp == prevFP, full == prevFull)
		}
		prev, prevFP, prevFull = snap, fp, full
		if l.Sums(snap) == nil {
			t.Fatalf("step %d (%s): no sums for the snapshot Reload returned", step, what)
		}
		// The reused segments must give what placing every object again gives.
		if freshFP, _ := fl.Fingerprint(fresh); freshFP != fp && changed {
			t.Fatalf("step %d (%s): the fingerprint differs from a fresh load's", step, what)
		}
		if !equality.Semantic.DeepEqual(l.Sums(snap), fl.Sums(fresh)) {
			t.Fatalf("step %d (%s): the sums differ from a fresh load's", step, what)
		}
		if got, want := resultJSON(t, incremental(snap, opts)), resultJSON(t, translate.Translate(snap, opts)); got != want {
			t.Fatalf("step %d (%s): incremental translation differs from the full one (-full +incremental):\n%s", step, what, cmp.Diff(want, got))
		}
	}
}

// resultJSON is a Result's table and statuses as JSON.
func resultJSON(t *testing.T, res translate.Result) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("err=%v %s", res.Err != nil, b)
}

// TestAnEditedFileLogsTheWarningsOfItsUnchangedDocumentsAgain checks that
// reusing the unchanged documents of an edited file (parseFile) keeps the
// log as it was: a document that logged a warning is parsed, and logs,
// again.
func TestAnEditedFileLogsTheWarningsOfItsUnchangedDocumentsAgain(t *testing.T) {
	dir := t.TempDir()
	log, logs := newCaptureLogger(t)
	l, err := NewLoader(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	odd := strings.Replace(routeYAML("odd", "GET /odd"), "spec: {", "spec: {colour: red, ", 1)
	for i, other := range []string{"GET /a", "GET /b"} {
		writeFile(t, dir, "f.yaml", odd+"---\n"+routeYAML("other", other))
		if _, _, err := l.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range logs.lines {
			if strings.Contains(line, `unknown field \"spec.colour\"`) {
				n++
			}
		}
		if n != i+1 {
			t.Fatalf("after load %d the warning was logged %d times, want %d", i+1, n, i+1)
		}
	}
}
