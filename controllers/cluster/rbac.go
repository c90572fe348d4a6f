package cluster

// RBAC of `turnpike serve`, read by controller-gen. Everything is read-only
// except the status subresources (written by the leader), the status Lease,
// the replica Leases (each replica writes its own; the leader lists them and
// deletes expired ones) and Events on rejected objects (leader only).
// Secrets cannot be scoped by type in RBAC: in all-namespaces mode the gateway
// can read every Secret, although it caches only kubernetes.io/tls and
// turnpike.io/api-key ones (and hashes API keys as it reads them).
//
// +kubebuilder:rbac:groups=turnpike.io,resources=apis;routes;stages;authorizers;usageplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=turnpike.io,resources=apis/status;routes/status;stages/status;authorizers/status;usageplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=services;secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;create;update;delete,namespace=turnpike-system
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
