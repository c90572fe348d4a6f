package translate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// WEBSOCKET Apis (docs/websocket.md):
//   - routeSelectionExpression is compiled here, once ("$request.body.action"
//     when unset); one the gateway cannot evaluate makes the Api invalid.
//   - managementApi.credentialSecretNames name Secrets of type
//     turnpike.io/aws-credentials whose access keys may sign @connections
//     calls. A missing or malformed Secret fails only itself (ResolvedRefs=
//     False on the Api); the Api and the other keys keep serving.
//   - Authorization and API keys apply to $connect only (as on AWS): the
//     $connect authorizer's answer reaches every later route of the
//     connection. returnResponse applies to message routes only.
//   - A stage without a $connect (or $disconnect) Route gets an implicit
//     one, a MOCK 200 owned by no object, so every connection has a
//     $connect that the stage's throttle applies to and every close a
//     $disconnect that is logged.

// accessKeyIDPattern is the form of an AWS access key id.
var accessKeyIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)

// Data keys of a turnpike.io/aws-credentials Secret.
const (
	credentialKeyID     = "accessKeyId"
	credentialSecretKey = "secretAccessKey"
	maxSecretKeyLength  = 256
)

// websocketApi compiles the WebSocket parts of a WEBSOCKET Api into t: the
// route selection expression (an invalid one is the Accepted issue) and
// the management credentials (the ResolvedRefs issue names the Secrets that
// did not resolve).
func (tr *translator) websocketApi(obj *v1alpha1.Api, t *table.Api) (accepted, resolved *issue) {
	if obj.Spec.Protocol != v1alpha1.ProtocolWebSocket {
		return nil, nil
	}
	expr := cmp.Or(obj.Spec.RouteSelectionExpression, mapping.DefaultRouteSelection)
	sel, err := mapping.CompileSelection(expr)
	if err != nil {
		accepted = &issue{reason: v1alpha1.ReasonInvalid, stalled: true,
			message: "spec.routeSelectionExpression " + quote(expr) + " is invalid: " + err.Error()}
	}
	t.RouteSelection = sel
	if m := obj.Spec.ManagementApi; m != nil {
		t.Management, resolved = tr.managementCredentials(obj.Namespace, m.CredentialSecretNames)
	}
	return accepted, resolved
}

// managementCredentials resolves the credential Secrets of namespace ns.
func (tr *translator) managementCredentials(ns string, names []string) (*table.Management, *issue) {
	m := &table.Management{Credentials: []table.Credential{}}
	var missing, invalid []string
	seen := map[string]bool{}
	for _, name := range names {
		s := tr.secrets[ns+"/"+name]
		if s == nil || string(s.Type) != v1alpha1.AWSCredentialsSecretType {
			missing = append(missing, name)
			continue
		}
		id, secret := string(s.Data[credentialKeyID]), string(s.Data[credentialSecretKey])
		if !accessKeyIDPattern.MatchString(id) || secret == "" || len(secret) > maxSecretKeyLength || strings.ContainsAny(secret, " \t\r\n") {
			invalid = append(invalid, name)
			continue
		}
		if seen[id] { // the same key in two Secrets: one entry
			continue
		}
		seen[id] = true
		sum := sha256.Sum256([]byte(secret))
		m.Credentials = append(m.Credentials, table.Credential{
			AccessKeyID: id, SecretAccessKey: secret, Fingerprint: hex.EncodeToString(sum[:4]), Secret: ns + "/" + name,
		})
	}
	slices.SortFunc(m.Credentials, func(a, b table.Credential) int { return strings.Compare(a.AccessKeyID, b.AccessKeyID) })
	notFound := ""
	if len(missing) > 0 {
		notFound = "credential Secret(s) " + strings.Join(missing, ", ") + " of type " + v1alpha1.AWSCredentialsSecretType +
			" not found in namespace " + quote(ns) + "; their keys cannot sign @connections calls until they exist"
	}
	if len(invalid) > 0 {
		msg := "credential Secret(s) " + strings.Join(invalid, ", ") + " need data." + credentialKeyID + " (16 to 128 letters and digits) and data." +
			credentialSecretKey + " (1 to 256 characters, no spaces); their keys cannot sign @connections calls"
		if notFound != "" {
			msg += "; " + notFound
		}
		return m, &issue{reason: v1alpha1.ReasonInvalidCredentials, stalled: true, message: msg}
	}
	if notFound != "" {
		return m, &issue{reason: v1alpha1.ReasonSecretNotFound, waiting: true, message: notFound}
	}
	return m, nil
}

// indexCredentialSecrets indexes the turnpike.io/aws-credentials Secrets.
func indexCredentialSecrets(secrets []corev1.Secret) map[string]*corev1.Secret {
	out := map[string]*corev1.Secret{}
	for i := range secrets {
		s := &secrets[i]
		if string(s.Type) == v1alpha1.AWSCredentialsSecretType {
			out[s.Namespace+"/"+s.Name] = s
		}
	}
	return out
}

// websocketRouteIssue is the Accepted issue of a Route that uses WebSocket
// settings where they do not apply; nil when there is none (or the Api is
// unknown).
func websocketRouteIssue(obj *v1alpha1.Route, api *apiState) *issue {
	if api == nil {
		return nil
	}
	sp := &obj.Spec
	invalid := func(msg string) *issue { return &issue{reason: v1alpha1.ReasonInvalid, message: msg, stalled: true} }
	if api.obj.Spec.Protocol != v1alpha1.ProtocolWebSocket {
		if sp.WebSocket != nil {
			return invalid("spec.websocket applies only to Routes of WEBSOCKET Apis; remove it")
		}
		return nil
	}
	connect := sp.RouteKey == table.ConnectRouteKey
	switch {
	case sp.WebSocket != nil && sp.WebSocket.ReturnResponse && (connect || sp.RouteKey == table.DisconnectRouteKey):
		return invalid("spec.websocket.returnResponse applies to message routes ($default and action names): $connect answers with the upgrade and $disconnect has no client to answer")
	case !connect && sp.AuthorizationType != "" && sp.AuthorizationType != v1alpha1.AuthorizationNone:
		return invalid("on a WEBSOCKET Api only $connect is authorized (its authorizer's answer reaches every later route of the connection); set authorizationType NONE")
	case !connect && sp.ApiKeyRequired:
		return invalid("on a WEBSOCKET Api only $connect checks API keys; remove apiKeyRequired")
	}
	return nil
}

// implicitWebSocketRoutes gives every served stage of a WEBSOCKET Api the
// $connect and $disconnect routes it lacks: MOCK 200, no object, with the
// stage's throttle for that key.
func (tr *translator) implicitWebSocketRoutes() {
	for _, a := range tr.apis {
		if !a.served || a.table.Protocol != table.ProtocolWebSocket {
			continue
		}
		for _, st := range a.stages {
			for _, key := range []string{table.ConnectRouteKey, table.DisconnectRouteKey} {
				if slices.ContainsFunc(st.table.Routes, func(r *table.Route) bool { return r.Key == key }) {
					continue
				}
				st.table.Routes = append(st.table.Routes, &table.Route{
					Key:         key,
					Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200}},
					Throttle:    routeThrottle(st.obj, key),
				})
			}
		}
	}
}
