// Package translate is the pure translator of Turnpike: a Snapshot of every
// object the gateway reads goes in; the routing table and one status (the six
// conditions and the URLs) per object of the five kinds come out.
//
// Invariants, relied on by both sources (informers and standalone files), the
// status writer and the golden tests:
//   - Pure: no client, clock, logger, goroutine, network or mutation of the
//     Snapshot. The same Snapshot, in any slice order, gives an equal Result.
//     Time enters only as Options.Now; Result.NextChange says when the same
//     Snapshot would translate differently (certificates, grace periods).
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

// Choices where api.md is silent (what an AWS API Gateway user would expect):
//   - A Route appears in every served stage of its Api, resolved per stage
//     (stage variables in integration uri and service.name). A problem in
//     some stages only is reported on those Stages (Programmed=False, naming
//     every Route) and noted in the Route's Ready and Programmed messages,
//     which stay True: a Stage someone else adds must not make the Route
//     Degraded. A problem in every stage is the Route's own, naming every
//     stage when the messages differ (route.go).
//   - A SERVICE integration to an ExternalName Service is refused
//     (ExternalNameService, Stalled): it has no endpoints; HTTP_PROXY reaches
//     the name through the egress guard. An HTTP_PROXY uri whose host is a
//     literal address the guard denies (or localhost) is EgressDenied,
//     Stalled, but keeps its route (requests answer 502 as the guard does).
//   - Status claims only what the replicas serve: without an HTTPS listener
//     a TLS domain is NoHTTPSListener and listed as http:// (domains.go).
//   - Waits end: Reconciling=True for longer than Options.GracePeriod turns
//     into Stalled=True with the same reason and message (grace.go), dated
//     from the stored status; Result.NextChange schedules it.
//   - A UsagePlan whose selector matches no key stays Ready, with reason
//     NoApiKeys and a message that says so.
//   - A Route of an Api without a served Stage is served nowhere:
//     Programmed=False, NotServed, Reconciling=True (a Stage may appear).
//     References that do not depend on stage variables are still checked.
//   - An Api without Stages is still Programmed (its host answers 404).
//     Status routes counts Route objects that hold a key in at least one stage
//     (those answering 500 included); stages counts served Stages.
//   - Reconciling=True for references that may still appear (Api, Service,
//     Service port, a Stage); Stalled=True for what only the user can fix
//     (invalid, conflict, NotImplemented, undefined stage variable, an uri that
//     is not an absolute URL). Never both: Stalled wins.
//   - A NotImplemented Stage or Route is Accepted and keeps its claim (stage
//     name, route key), like an object with unresolved references.
//   - Values that switch a later feature off (cache.enabled=false,
//     canary.percentTraffic=0, accessLog.format=json, authorizationType=NONE)
//     are served.
//   - MOCK bodies are not substituted (AWS substitutes only integration
//     targets); an empty Options.DefaultDomain means DefaultDomain.
