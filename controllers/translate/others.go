package translate

import (
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
