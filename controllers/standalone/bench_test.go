package standalone

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

// routesFile is one file of an Api, its Stage and n MOCK Routes, the shape
// of `bin/bench scale`; Route r0 answers body0.
func routesFile(n int, body0 string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: a, namespace: scale}\nspec: {protocol: HTTP}\n")
	b.WriteString("---\napiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: a-prod, namespace: scale}\nspec: {apiName: a, stageName: prod}\n")
	for j := range n {
		body := "ok"
		if j == 0 {
			body = body0
		}
		fmt.Fprintf(&b, "---\napiVersion: turnpike.io/v1alpha1\nkind: Route\nmetadata: {name: a-r%d, namespace: scale}\n"+
			"spec:\n  apiName: a\n  routeKey: GET /r%d\n  integration:\n    type: MOCK\n    mock: {statusCode: 200, body: %q}\n", j, j, body)
	}
	return []byte(b.String())
}

// BenchmarkParseFile measures issue 18's "validation of 1,000 objects in one
// file well under 100 ms": a file of 1,000 objects (an Api, a Stage, 998
// MOCK Routes) split, decoded, defaulted and validated by the API server's
// code (new), and the same file parsed again with one Route's body changed
// (one-edit: the other 999 documents are reused).
func BenchmarkParseFile(b *testing.B) {
	l, err := NewLoader(b.TempDir(), logr.Discard())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	data := routesFile(998, "v0")
	b.Run("objects=1000/new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, errs := l.parseFile(ctx, "f.yaml", data, nil); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("objects=1000/one-edit", func(b *testing.B) {
		_, docs, _ := l.parseFile(ctx, "f.yaml", data, nil)
		edited := routesFile(998, "v1")
		b.ReportAllocs()
		for b.Loop() {
			if _, _, errs := l.parseFile(ctx, "f.yaml", edited, docs); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
}

// A file large enough to be parsed on several goroutines gives its objects
// and its errors in document order, the same as one parsed alone.
func TestParseFileInParallelKeepsDocumentOrder(t *testing.T) {
	l, err := NewLoader(t.TempDir(), logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	data := routesFile(200, "v0")
	// Every 37th Route gets an integration type the schema refuses.
	docs := strings.Split(string(data), "---\n")
	for i := 2; i < len(docs); i += 37 {
		docs[i] = strings.Replace(docs[i], "type: MOCK", "type: NOPE", 1)
	}
	broken := strings.Join(docs, "---\n")
	ctx := context.Background()
	good, _, errs := l.parseFile(ctx, "f.yaml", data, nil)
	if len(errs) != 0 || len(good) != 202 {
		t.Fatalf("good file: %d entries, errors %v", len(good), errs)
	}
	for i, e := range good[2:] {
		if want := fmt.Sprintf("a-r%d", i); e.key.Name != want {
			t.Fatalf("entry %d is %s, want %s", i+2, e.key.Name, want)
		}
	}
	_, _, errs = l.parseFile(ctx, "f.yaml", []byte(broken), nil)
	if len(errs) != 6 {
		t.Fatalf("%d errors from a file with 6 broken Routes: %v", len(errs), errs)
	}
	for i := 1; i < len(errs); i++ {
		if errs[i].Line <= errs[i-1].Line {
			t.Fatalf("errors out of document order: line %d after line %d", errs[i].Line, errs[i-1].Line)
		}
	}
}
