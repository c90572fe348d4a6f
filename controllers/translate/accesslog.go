package translate

import (
	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// stageAccessLog compiles the Stage's accessLog.format once, for the table,
// so that requests only render it. A template that does not compile makes the
// Stage not Accepted (only its author can fix it): serving it with another
// format would silently change what a log pipeline parses.
func stageAccessLog(s *v1alpha1.Stage) (*reqctx.Template, *issue) {
	if s.Spec.AccessLog == nil {
		return nil, nil
	}
	f, err := reqctx.CompileAccessLog(s.Spec.AccessLog.Format)
	if err != nil {
		return nil, &issue{
			reason:  v1alpha1.ReasonInvalid,
			message: "spec.accessLog.format: " + err.Error(),
			stalled: true,
		}
	}
	return f, nil
}
