package translate

import (
	"fmt"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// translateAuthorizers gives every Authorizer its status. The kind is not
// built yet: none is served (Programmed=False, NotImplemented), and every
// Route that uses one is NotImplemented itself through authorizationType.
func (tr *translator) translateAuthorizers(auths []v1alpha1.Authorizer) {
	for i := range auths {
		a := &auths[i]
		var v verdict
		_, v.resolved = tr.apiRef(a.Namespace, a.Spec.ApiName, KindAuthorizer)
		v.programmed = &issue{
			reason:  v1alpha1.ReasonNotImplemented,
			message: "Authorizers are not implemented yet; Routes that set authorizationType answer 500 until they are",
			stalled: true,
		}
		tr.statuses = append(tr.statuses, objectStatus(KindAuthorizer, &a.ObjectMeta, v))
	}
}

// translateUsagePlans gives every UsagePlan its status. The kind is not built
// yet: none is enforced (Programmed=False, NotImplemented). References to Apis
// and stage names are still checked so that the status is useful today.
func (tr *translator) translateUsagePlans(plans []v1alpha1.UsagePlan) {
	for i := range plans {
		p := &plans[i]
		var v verdict
		for _, as := range p.Spec.ApiStages {
			if _, iss := tr.apiRef(p.Namespace, as.ApiName, KindUsagePlan); iss != nil {
				v.resolved = iss
				break
			}
			if _, ok := tr.stageNames[claimKey(p.Namespace, as.ApiName, as.Stage)]; !ok {
				v.resolved = &issue{
					reason:  v1alpha1.ReasonUnresolvedRefs,
					message: fmt.Sprintf("Api %q has no Stage named %q; create it or fix spec.apiStages", as.ApiName, as.Stage),
					waiting: true,
				}
				break
			}
		}
		v.programmed = &issue{
			reason:  v1alpha1.ReasonNotImplemented,
			message: "UsagePlans are not implemented yet; no API key, plan throttle or quota is enforced and Routes with apiKeyRequired answer 500",
			stalled: true,
		}
		tr.statuses = append(tr.statuses, objectStatus(KindUsagePlan, &p.ObjectMeta, v))
	}
}
