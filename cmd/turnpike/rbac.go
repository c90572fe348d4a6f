package main

// RBAC of the gateway, least privilege: read-only on everything it watches
// (Secrets included: the Secret cache holds only kubernetes.io/tls and
// turnpike.io/api-key Secrets, selected by a field selector on type, but RBAC
// cannot scope by type, so in all-namespaces mode the gateway can read every
// Secret — see docs/operations.md), writes only to its own CRDs' status, its
// status Lease and Events.
//
// +kubebuilder:rbac:groups=turnpike.io,resources=apis;routes;stages;authorizers;usageplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=turnpike.io,resources=apis/status;routes/status;stages/status;authorizers/status;usageplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=services;secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch,namespace=turnpike-system
