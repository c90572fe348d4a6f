package translate

import "github.com/turnpike-io/turnpike/dataplane/table"

// interned shares equal immutable table values between the routes of one
// translation: most routes of a gateway target one of a few Service ports,
// and MOCK routes often answer the same status and body. The table is never
// written after it is built, so routes may share these values; at 100,000
// Routes a private ServiceTarget per route and stage costs ~64 bytes each
// (docs/benchmarks.md, "Memory per Route").
type interned struct {
	services map[table.ServiceTarget]*table.ServiceTarget
	mocks    map[mockKey]*table.Mock
}

// mockKey identifies a Mock without headers (those with headers are not
// shared: comparing maps costs more than it saves).
type mockKey struct {
	status int
	body   string
}

// service returns the shared ServiceTarget equal to s.
func (in *interned) service(s table.ServiceTarget) *table.ServiceTarget {
	if p := in.services[s]; p != nil {
		return p
	}
	if in.services == nil {
		in.services = map[table.ServiceTarget]*table.ServiceTarget{}
	}
	p := &s
	in.services[s] = p
	return p
}

// mock returns a Mock equal to m: the shared one when m has no headers.
func (in *interned) mock(m table.Mock) *table.Mock {
	if len(m.Headers) > 0 {
		return &m
	}
	k := mockKey{m.Status, m.Body}
	if p := in.mocks[k]; p != nil {
		return p
	}
	if in.mocks == nil {
		in.mocks = map[mockKey]*table.Mock{}
	}
	p := &table.Mock{Status: m.Status, Body: m.Body}
	in.mocks[k] = p
	return p
}
