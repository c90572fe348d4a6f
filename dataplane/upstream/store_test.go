package upstream

import (
	"slices"
	"sync"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func eps(ports ...int32) []table.Endpoint {
	out := make([]table.Endpoint, 0, len(ports))
	for _, p := range ports {
		out = append(out, table.Endpoint{Address: "10.0.0.1", Port: p})
	}
	return out
}

func take(t *testing.T, s *Set, n int) []int32 {
	t.Helper()
	var got []int32
	for range n {
		ep, ok := s.Next()
		if !ok {
			t.Fatalf("Next() = false after %d picks", len(got))
		}
		got = append(got, ep.Port)
	}
	return got
}

func TestStore(t *testing.T) {
	t.Run("an unknown key has no set", func(t *testing.T) {
		s := NewStore()
		if s.Get("ns/svc:http") != nil {
			t.Fatal("Get on an empty store returned a set")
		}
		s.Update(table.EndpointSets{"ns/a:": eps(1)})
		if s.Get("ns/b:") != nil {
			t.Fatal("Get of an absent key returned a set")
		}
	})
	t.Run("round robin visits every endpoint in turn", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": eps(1, 2, 3)})
		got := take(t, s.Get("k"), 6)
		if want := []int32{1, 2, 3, 1, 2, 3}; !slices.Equal(got, want) {
			t.Fatalf("picks = %v, want %v", got, want)
		}
	})
	t.Run("an empty set has no endpoint", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": nil})
		set := s.Get("k")
		if set == nil {
			t.Fatal("a key with no endpoints must still be known")
		}
		if _, ok := set.Next(); ok {
			t.Fatal("Next() on an empty set returned an endpoint")
		}
	})
	t.Run("update keeps the set identity and applies the new list", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": eps(1, 2, 3), "gone": eps(9)})
		before := s.Get("k")
		take(t, before, 1)
		before.MarkRefused(eps(2)[0])
		s.Update(table.EndpointSets{"k": eps(2, 3, 4)})
		after := s.Get("k")
		if after != before {
			t.Fatal("Update replaced the set of a persisting key")
		}
		if s.Get("gone") != nil {
			t.Fatal("a key absent from the update is still served")
		}
		got := take(t, after, 4)
		if slices.Contains(got, 1) {
			t.Fatalf("picks %v include removed endpoint 1", got)
		}
		if slices.Contains(got, 2) {
			t.Fatalf("picks %v include endpoint 2, whose refused mark should survive the update", got)
		}
		if !slices.Contains(got, 4) {
			t.Fatalf("picks %v never reach new endpoint 4", got)
		}
	})
	t.Run("a refused endpoint is skipped", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": eps(1, 2, 3)})
		set := s.Get("k")
		set.MarkRefused(eps(2)[0])
		if got := take(t, set, 6); slices.Contains(got, 2) {
			t.Fatalf("picks %v include the refused endpoint", got)
		}
	})
	t.Run("when all endpoints refused they are still tried", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": eps(1, 2)})
		set := s.Get("k")
		set.MarkRefused(eps(1)[0])
		set.MarkRefused(eps(2)[0])
		got := take(t, set, 4)
		if !slices.Contains(got, 1) || !slices.Contains(got, 2) {
			t.Fatalf("picks %v should cycle over all marked endpoints", got)
		}
	})
	t.Run("marking an endpoint not in the set is ignored", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": eps(1)})
		set := s.Get("k")
		set.MarkRefused(eps(7)[0])
		if got := take(t, set, 2); !slices.Equal(got, []int32{1, 1}) {
			t.Fatalf("picks = %v", got)
		}
	})
	t.Run("duplicate endpoints are listed once", func(t *testing.T) {
		s := NewStore()
		s.Update(table.EndpointSets{"k": eps(1, 1, 2)})
		if n := s.Get("k").Len(); n != 2 {
			t.Fatalf("Len() = %d, want 2", n)
		}
	})
}

func TestStoreConcurrentUse(t *testing.T) {
	s := NewStore()
	s.Update(table.EndpointSets{"k": eps(1, 2, 3)})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 500 {
				if set := s.Get("k"); set != nil {
					if ep, ok := set.Next(); ok && j%7 == 0 {
						set.MarkRefused(ep)
					}
				}
				if i == 0 && j%50 == 0 {
					s.Update(table.EndpointSets{"k": eps(int32(j%3+1), 4)})
				}
			}
		})
	}
	wg.Wait()
	if s.Get("k") == nil {
		t.Fatal("set lost under concurrent use")
	}
}
