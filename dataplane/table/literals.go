package table

import (
	"hash/maphash"
	"math/bits"
)

// literals maps the literal path segments below a router node to its
// children. Routers are immutable, so it is built once, from the map the
// builder filled, as an open-addressing hash table at most a quarter full:
// a lookup hashes the segment once and finds it, or an empty slot, within
// about one probe, whatever the number of children. A Go map's lookup cost
// grows with its size (its directory and fuller groups): at 10,000 routes
// under one prefix that was ~9% of a route lookup, over the budget of
// architecture.md (10 vs 10,000 routes within 5%).
//
// A slot holds only the child; the child holds its segment (node.seg), so
// a slot costs 8 bytes (32 per child at a quarter full) instead of 24 for a
// key and a child. Comparing the key reads the child, which a hit reads
// next anyway. The hash seed is the Router's, the length a power of two
// (or zero: no literal children).
type literals []*node // nil: empty slot

// newLiterals builds the table of m, whose children's seg are their keys.
func newLiterals(seed maphash.Seed, m map[string]*node) literals {
	if len(m) == 0 {
		return nil
	}
	size := uint64(1) << bits.Len(uint(4*len(m)-1)) // a power of two >= 4n
	l := make(literals, size)
	for k, child := range m {
		i := maphash.String(seed, k) & (size - 1)
		for l[i] != nil {
			i = (i + 1) & (size - 1)
		}
		l[i] = child
	}
	return l
}

// get returns the child of segment s, or nil.
func (l literals) get(seed maphash.Seed, s string) *node {
	if len(l) == 0 {
		return nil
	}
	mask := uint64(len(l) - 1)
	for i := maphash.String(seed, s) & mask; ; i = (i + 1) & mask {
		child := l[i]
		if child == nil || child.seg == s {
			return child
		}
	}
}
