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
type literals struct {
	seed  maphash.Seed
	mask  uint64
	slots []literalSlot
}

type literalSlot struct {
	key   string
	child *node // nil: empty slot
}

// newLiterals builds the table of m (nil when m is empty).
func newLiterals(m map[string]*node) *literals {
	if len(m) == 0 {
		return nil
	}
	size := uint64(1) << bits.Len(uint(4*len(m)-1)) // a power of two >= 4n
	l := &literals{seed: maphash.MakeSeed(), mask: size - 1, slots: make([]literalSlot, size)}
	for k, child := range m {
		i := maphash.String(l.seed, k) & l.mask
		for l.slots[i].child != nil {
			i = (i + 1) & l.mask
		}
		l.slots[i] = literalSlot{key: k, child: child}
	}
	return l
}

// get returns the child of segment s, or nil. A nil *literals has none.
func (l *literals) get(s string) *node {
	if l == nil {
		return nil
	}
	for i := maphash.String(l.seed, s) & l.mask; ; i = (i + 1) & l.mask {
		slot := &l.slots[i]
		if slot.child == nil {
			return nil
		}
		if slot.key == s {
			return slot.child
		}
	}
}
