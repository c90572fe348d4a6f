package dataplane

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the chain table in docs/design.md")

// describeChain renders the chain as the Markdown table of docs/design.md:
// one row per step, in order, with the sides it has. The request side runs
// top to bottom; the response side (reply, header, out) bottom to top.
func describeChain() string {
	var b strings.Builder
	b.WriteString("| # | step | request side (in) | integration answer (reply) | final status (header) | after the response (out) |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	mark := func(set bool) string {
		if set {
			return "✓"
		}
		return ""
	}
	for i, st := range chain {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", i+1, st.name,
			mark(st.in != nil), mark(st.reply != nil), mark(st.header != nil), mark(st.out != nil))
	}
	return b.String()
}

// TestChainOrder pins the chain: a reordered, added or removed step, or a
// step that gained or lost a side, fails here with a readable diff, and
// docs/design.md must show the same table (go test ./dataplane -run
// TestChainOrder -update-docs rewrites it).
func TestChainOrder(t *testing.T) {
	want := `| # | step | request side (in) | integration answer (reply) | final status (header) | after the response (out) |
|---|---|---|---|---|---|
| 1 | access log |  |  |  | ✓ |
| 2 | metrics |  |  |  | ✓ |
| 3 | trace | ✓ |  |  | ✓ |
| 4 | connection headers | ✓ |  |  |  |
| 5 | request id | ✓ |  |  |  |
| 6 | path | ✓ |  |  |  |
| 7 | host and custom domain | ✓ |  |  |  |
| 8 | stage | ✓ |  |  |  |
| 9 | canary | ✓ |  |  |  |
| 10 | mutual TLS | ✓ |  |  |  |
| 11 | CORS | ✓ |  | ✓ |  |
| 12 | WebSocket | ✓ |  |  |  |
| 13 | route | ✓ |  |  |  |
| 14 | body limit | ✓ |  |  |  |
| 15 | throttle | ✓ |  |  |  |
| 16 | authorizer | ✓ |  |  |  |
| 17 | API key and usage plan | ✓ |  |  |  |
| 18 | request validation | ✓ |  |  |  |
| 19 | response cache | ✓ | ✓ |  | ✓ |
| 20 | integration request | ✓ |  |  |  |
| 21 | parameter mapping | ✓ | ✓ |  |  |
| 22 | integration | ✓ |  |  |  |
`
	got := describeChain()
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("the chain changed (-pinned +now):\n%s\nUpdate this test and docs/design.md together.", diff)
	}

	const docPath, begin, end = "../docs/design.md", "<!-- chain:begin -->\n", "<!-- chain:end -->"
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q block", docPath, begin, end)
	}
	inDoc := string(doc[i+len(begin) : j])
	if *updateDocs {
		out := string(doc[:i+len(begin)]) + got + string(doc[j:])
		if err := os.WriteFile(docPath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(strings.Split(got, "\n"), strings.Split(inDoc, "\n")); diff != "" {
		t.Errorf("docs/design.md shows another chain (-code +doc):\n%s\nRun go test ./dataplane -run TestChainOrder -update-docs.", diff)
	}
}

// Every step names itself, and every step does something.
func TestEveryStepHasANameAndASide(t *testing.T) {
	seen := map[string]bool{}
	for i, st := range chain {
		if st.name == "" || seen[st.name] {
			t.Errorf("step %d: empty or repeated name %q", i+1, st.name)
		}
		seen[st.name] = true
		if st.in == nil && st.reply == nil && st.header == nil && st.out == nil {
			t.Errorf("step %q does nothing", st.name)
		}
	}
}
