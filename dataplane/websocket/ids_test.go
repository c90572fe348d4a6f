package websocket

import "testing"

func TestConnectionIDsNameTheirOwnerReplica(t *testing.T) {
	a, b := tagOf("10.0.0.1:8080"), tagOf("10.0.0.2:8080")
	if a == b || a != tagOf("10.0.0.1:8080") {
		t.Fatal("tags are not a function of the address")
	}
	seen := map[string]bool{}
	for range 1000 {
		id := newID(a)
		if len(id) != IDLength || seen[id] {
			t.Fatalf("id %q: length %d or repeated", id, len(id))
		}
		seen[id] = true
		if owner, ok := ownerOf(id); !ok || owner != a {
			t.Fatalf("owner of %s = %v %v", id, owner, ok)
		}
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAA!", "AAAAAAAAAAAAAAAAAAAAA"} {
		if _, ok := ownerOf(bad); ok {
			t.Errorf("%q parsed as a connection id", bad)
		}
	}
}
