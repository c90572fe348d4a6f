package translate

import (
	"cmp"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Snapshot is every object the gateway reads, at one moment. Both sources (the
// API server's informers and standalone files) produce it; the translator is
// the only consumer. The translator never mutates it.
type Snapshot struct {
	Apis           []v1alpha1.Api
	Routes         []v1alpha1.Route
	Stages         []v1alpha1.Stage
	Authorizers    []v1alpha1.Authorizer
	UsagePlans     []v1alpha1.UsagePlan
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	// Secrets holds only kubernetes.io/tls, turnpike.io/api-key and
	// turnpike.io/aws-credentials Secrets.
	Secrets []corev1.Secret
}

// Options are the gateway settings the translation depends on.
type Options struct {
	// DefaultDomain: an Api's default endpoint host is {api}.{namespace}.{DefaultDomain}.
	DefaultDomain string
	// SharedLimits: buckets and quotas are shared through Redis (--redis-url);
	// the UsagePlan status says whether limits are per replica or shared.
	SharedLimits bool
	// Now is the time certificates of custom domains must be valid at and
	// grace periods are measured at; zero leaves expiry unchecked (the
	// dataplane still refuses expired certificates in the handshake) and
	// never gives up waiting. The pipeline sets it per translation.
	Now time.Time
	// GracePeriod is how long an object may wait for a reference that may
	// still appear before it is reported Stalled (grace.go); zero means
	// DefaultGracePeriod, negative never (standalone mode, which has no
	// stored status to date a wait from).
	GracePeriod time.Duration
	// NoHTTPSListener: the gateway runs without an HTTPS listener
	// (--https-addr ""). Custom domains with tls are then not served over
	// HTTPS, and their Stages say so instead of listing https:// URLs.
	NoHTTPSListener bool
	// DenyEgress are the address ranges the gateway refuses to dial
	// (--deny-egress-cidrs, after defaults). An HTTP_PROXY uri whose host is
	// a literal address in one of them (or localhost) can never be reached,
	// and its Route says so.
	DenyEgress []netip.Prefix
}

// ObjectRef names one object of the five kinds.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Compare orders refs as Result.Statuses are sorted: by kind, namespace,
// then name (-1, 0, +1).
func (r *ObjectRef) Compare(o *ObjectRef) int {
	return cmp.Or(strings.Compare(r.Kind, o.Kind), strings.Compare(r.Namespace, o.Namespace), strings.Compare(r.Name, o.Name))
}

// ObjectStatus is the status the translator computed for one object. Condition
// LastTransitionTime is left zero: the status writer keeps the stored time when
// a condition's status did not change (meta.SetStatusCondition).
type ObjectStatus struct {
	ObjectRef  `json:",inline"`
	Generation int64              `json:"generation"`
	Conditions []metav1.Condition `json:"conditions"`
	// Api only.
	Endpoints []string `json:"endpoints,omitempty"`
	Routes    int32    `json:"routes,omitempty"`
	Stages    int32    `json:"stages,omitempty"`
	// Stage only: the URLs that reach it, and its stage name (spec.stageName,
	// else metadata.name).
	InvokeURLs []string `json:"invokeURLs,omitempty"`
	StageName  string   `json:"stageName,omitempty"`
	// UsagePlan only.
	ApiKeys int32 `json:"apiKeys,omitempty"`
}

// Result is the output of Translate.
type Result struct {
	// Table is the new routing table (never nil; possibly empty).
	Table *table.Table `json:"table"`
	// Statuses has one entry per object of the five kinds in the snapshot,
	// sorted by kind, namespace, name. They are read-only: entries may share
	// their Conditions slice.
	Statuses []ObjectStatus `json:"statuses"`
	// NextChange is the earliest time after Options.Now at which the
	// translation of the same Snapshot gives another result: a certificate
	// becomes valid or expires, a grace period ends. Zero when nothing in the
	// snapshot depends on time. The pipeline translates again then.
	NextChange time.Time `json:"nextChange,omitzero"`
	// Err is set when table.New rejected the table the translator built. That
	// is a translator bug (the translator must only produce valid tables); the
	// table is returned anyway and callers keep serving the last good one.
	Err error `json:"-"`
}
