package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// QuotaPeriod is the calendar period of a quota, in UTC.
// +kubebuilder:validation:Enum=DAY;WEEK;MONTH
type QuotaPeriod string

// Quota periods.
const (
	QuotaDay   QuotaPeriod = "DAY"
	QuotaWeek  QuotaPeriod = "WEEK"
	QuotaMonth QuotaPeriod = "MONTH"
)

// ApiKeySecretType is the Secret type of API keys; the key is data.key.
const ApiKeySecretType = "turnpike.io/api-key"

// UsagePlanSpec links API keys to stages with throttles and a quota.
type UsagePlanSpec struct {
	// The stages the plan's keys may call.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	ApiStages []UsagePlanStage `json:"apiStages"`
	// The per-key bucket across all stages of the plan.
	// +optional
	Throttle *Throttle `json:"throttle,omitempty"`
	// The per-key request quota.
	// +optional
	Quota *Quota `json:"quota,omitempty"`
	// Selects turnpike.io/api-key Secrets by label.
	ApiKeySelector metav1.LabelSelector `json:"apiKeySelector"`
}

// UsagePlanStage is one stage of a usage plan.
type UsagePlanStage struct {
	// An Api in this namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ApiName string `json:"apiName"`
	// The stage's stageName ("$default" allowed).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^(\$default|[A-Za-z0-9_-]+)$`
	Stage string `json:"stage"`
	// Per-key buckets of single routes, by route key.
	// +kubebuilder:validation:MaxProperties=20
	// +optional
	RouteThrottles map[string]Throttle `json:"routeThrottles,omitempty"`
}

// Quota is a per-key request allowance per calendar period.
// +kubebuilder:validation:XValidation:rule="self.period != 'DAY' || !has(self.offset) || self.offset == 0",message="offset must be 0 when period is DAY"
// +kubebuilder:validation:XValidation:rule="self.period != 'WEEK' || !has(self.offset) || self.offset <= 6",message="offset is the start day of the week, 0 (Sunday) to 6, when period is WEEK"
type Quota struct {
	// The number of requests per period.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000000000
	Limit int64 `json:"limit"`
	// The calendar period: DAY, WEEK or MONTH, in UTC.
	Period QuotaPeriod `json:"period"`
	// The start day: WEEK 0 (Sunday) to 6, MONTH 0 to 27 (day-1), DAY 0.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=27
	// +optional
	Offset int32 `json:"offset,omitempty"`
}

// UsagePlanStatus is the observed state of a UsagePlan.
type UsagePlanStatus struct {
	CommonStatus `json:",inline"`
	// The number of API keys the plan selects and serves (0: none matches,
	// and Ready says so with reason NoApiKeys).
	// +optional
	ApiKeys int32 `json:"apiKeys"`
}

// UsagePlan meters and limits API keys.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=turnpike,shortName=tpplan
// +kubebuilder:printcolumn:name="Keys",type=integer,JSONPath=`.status.apiKeys`
// +kubebuilder:printcolumn:name="Quota",type=integer,JSONPath=`.spec.quota.limit`
// +kubebuilder:printcolumn:name="Period",type=string,JSONPath=`.spec.quota.period`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UsagePlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   UsagePlanSpec   `json:"spec,omitempty"`
	Status UsagePlanStatus `json:"status,omitempty"`
}

// UsagePlanList is a list of UsagePlans.
// +kubebuilder:object:root=true
type UsagePlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UsagePlan `json:"items"`
}
