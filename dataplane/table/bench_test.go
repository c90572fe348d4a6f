package table

import (
	"fmt"
	"testing"
)

// BenchmarkLookup shows that lookup cost does not grow with the number of
// routes (a budget of architecture.md, measured by `make bench`, never
// asserted in tests). Each size mixes literal, variable and greedy routes
// and looks up one path in the middle of the table. The first segments have
// the same length at every size (`r000042`), so only the table size differs;
// hack/bench pairs the first size with the last within each run.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 10000, 100000} {
		keys := make([]string, 0, n)
		for i := range n {
			switch i % 3 {
			case 0:
				keys = append(keys, fmt.Sprintf("GET /r%06d/items/{id}", i))
			case 1:
				keys = append(keys, fmt.Sprintf("ANY /r%06d/items/{id}/parts", i))
			default:
				keys = append(keys, fmt.Sprintf("GET /r%06d/{proxy+}", i))
			}
		}
		st := stageOf(b, keys...)
		target := n / 2 / 3 * 3 // a "GET /r{i}/items/{id}" route
		path := []string{fmt.Sprintf("r%06d", target), "items", "42"}
		want := fmt.Sprintf("GET /r%06d/items/{id}", target)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if r := st.Lookup("GET", path); r == nil || r.Key != want {
					b.Fatalf("matched %v, want %s", r, want)
				}
			}
		})
	}
}

// BenchmarkSpreadLookup is BenchmarkLookup over 4,096 different paths
// spread over the table, in turn, instead of one: at 100,000 routes the
// trie no longer fits the CPU caches, so this shows what cache misses add
// (not a budget: `make bench` judges BenchmarkLookup; its name does not
// match -bench BenchmarkLookup).
func BenchmarkSpreadLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 10000, 100000} {
		keys := make([]string, 0, n)
		for i := range n {
			keys = append(keys, fmt.Sprintf("GET /r%06d/items/{id}", i))
		}
		st := stageOf(b, keys...)
		paths := make([][]string, 4096)
		for i := range paths {
			paths[i] = []string{fmt.Sprintf("r%06d", (i*7919)%n), "items", "42"}
		}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if st.Lookup("GET", paths[i&4095]) == nil {
					b.Fatal("no match")
				}
				i++
			}
		})
	}
}
