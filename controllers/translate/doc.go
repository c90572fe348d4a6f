// Package translate is the pure translator of Turnpike: a Snapshot of every
// object the gateway reads goes in; the routing table and one status (the six
// conditions and the URLs) per object of the five kinds come out.
//
// Invariants, relied on by both sources (informers and standalone files), the
// status writer and the golden tests:
//   - Pure: no client, clock, logger, goroutine, network or mutation of the
//     Snapshot. The same Snapshot, in any slice order, gives an equal Result.
//   - Sorted: statuses by kind, namespace, name; the table sorts itself.
//   - Per-object isolation: a bad object only affects itself. Conflicts are
//     decided by creation time, then namespace/name; an object that is not
//     Accepted holds no claim, one with unresolved references keeps it.
//   - A Route that has its key but cannot be served as configured (unresolved
//     reference, feature not built yet) answers 500 through table.Failure; it
//     never falls through to another route.
//   - The table the translator builds always passes table.New's validation;
//     Result.Err reports a translator bug otherwise.
//
// The endpoint fast path (EndpointSets) is separate so that pod churn never
// re-translates routes.
package translate
