package reqctx

import (
	"strconv"
	"strings"
)

// Var is a compiled $context variable: resolved once (Lookup), rendered per
// request (AppendVar) without a name lookup or an allocation.
type Var struct {
	def *varDef
	// key is what follows "authorizer." for an authorizer value
	// ("claims.sub", a context key); "" for the fixed variables.
	key string
}

// Name is the variable's name without "$context.".
func (v Var) Name() string {
	if v.key != "" {
		return "authorizer." + v.key
	}
	return v.def.name
}

// Meaningful reports whether the variable can have a value here: false for
// the AWS variables that are accepted only so pasted access-log templates
// keep working (they are always empty). Parameter mapping refuses those.
func (v Var) Meaningful() bool {
	return v.def != nil && (v.def.str != nil || v.def.num != nil || v.def == authorizerValue)
}

// varDef defines one variable: exactly one of str and num is set, or none
// for AWS variables that have no meaning here (they render as empty).
type varDef struct {
	name string
	str  func(*Context) string
	num  func(*Context) int64
	// zeroIsEmpty renders a numeric 0 as empty (no integration status yet).
	zeroIsEmpty bool
	// quoted renders the value as a JSON string ($context.error.messageString).
	quoted bool
}

// defs are the $context variables Turnpike fills, by AWS name. Aliases
// (extendedRequestId, integration.status, ...) share their source.
var defs = map[string]*varDef{}

func init() {
	str := func(name string, f func(*Context) string) { defs[name] = &varDef{name: name, str: f} }
	num := func(name string, zeroIsEmpty bool, f func(*Context) int64) {
		defs[name] = &varDef{name: name, num: f, zeroIsEmpty: zeroIsEmpty}
	}
	requestID := func(c *Context) string { return c.RequestID }
	str("requestId", requestID)
	str("extendedRequestId", requestID)
	str("accountId", func(c *Context) string { return c.AccountID })
	str("apiId", func(c *Context) string { return c.APIID })
	str("stage", func(c *Context) string { return c.Stage })
	str("routeKey", func(c *Context) string { return c.RouteKey })
	str("resourcePath", (*Context).ResourcePath)
	str("httpMethod", func(c *Context) string { return c.HTTPMethod })
	str("path", func(c *Context) string { return c.Path })
	str("protocol", func(c *Context) string { return c.Protocol })
	str("domainName", func(c *Context) string { return c.DomainName })
	str("domainPrefix", (*Context).DomainPrefix)
	str("identity.sourceIp", func(c *Context) string { return c.SourceIP })
	str("identity.userAgent", func(c *Context) string { return c.UserAgent })
	str("identity.apiKeyId", func(c *Context) string { return c.APIKeyID })
	str("identity.clientCert.clientCertPem", func(c *Context) string { return c.ClientCert.PEM() })
	str("identity.clientCert.subjectDN", func(c *Context) string { return c.ClientCert.SubjectDN })
	str("identity.clientCert.issuerDN", func(c *Context) string { return c.ClientCert.IssuerDN })
	str("identity.clientCert.serialNumber", func(c *Context) string { return c.ClientCert.SerialNumber })
	str("identity.clientCert.validity.notBefore", func(c *Context) string { return c.ClientCert.NotBefore })
	str("identity.clientCert.validity.notAfter", func(c *Context) string { return c.ClientCert.NotAfter })
	str("requestTime", requestTime)
	num("requestTimeEpoch", false, func(c *Context) int64 {
		if c.RequestTime.IsZero() {
			return 0
		}
		return c.RequestTime.UnixMilli()
	})
	num("status", false, func(c *Context) int64 { return int64(c.Status) })
	num("responseLength", false, func(c *Context) int64 { return c.ResponseLength })
	num("responseLatency", false, func(c *Context) int64 { return c.ResponseLatency.Milliseconds() })
	integrationLatency := func(c *Context) int64 { return c.IntegrationLatency.Milliseconds() }
	num("integrationLatency", true, integrationLatency)
	num("integration.latency", true, integrationLatency)
	integrationStatus := func(c *Context) int64 { return int64(c.IntegrationStatus) }
	num("integrationStatus", true, integrationStatus)
	num("integration.status", true, integrationStatus)
	integrationError := func(c *Context) string { return c.IntegrationError }
	str("integrationErrorMessage", integrationError)
	str("integration.error", integrationError)
	str("error.message", func(c *Context) string { return c.ErrorMessage })
	str("error.messageString", func(c *Context) string { return c.ErrorMessage })
	defs["error.messageString"].quoted = true
	str("error.responseType", func(c *Context) string { return c.ErrorResponseType })
	str("cacheStatus", func(c *Context) string { return c.CacheStatus })
	str("connectionId", func(c *Context) string { return c.ConnectionID })
	str("eventType", func(c *Context) string { return c.EventType })
	str("messageId", func(c *Context) string { return c.MessageID })
	str("messageDirection", func(c *Context) string {
		if c.EventType == "" {
			return ""
		}
		return "IN"
	})
	num("connectedAt", true, func(c *Context) int64 {
		if c.ConnectedAt.IsZero() {
			return 0
		}
		return c.ConnectedAt.UnixMilli()
	})
	str("authorizer.principalId", func(c *Context) string { return c.PrincipalID })
	str("authorizer.error", func(c *Context) string { return c.AuthorizerError })
	for _, name := range awsOnly {
		defs[name] = &varDef{name: name}
	}
}

// awsOnly are AWS $context variables that have no meaning here; they
// resolve to "" (access logs write "-") so a template pasted from an AWS
// stage keeps working. identity.apiKey is among them on purpose: the key
// itself is never rendered (identity.apiKeyId is).
var awsOnly = []string{
	"awsEndpointRequestId", "awsEndpointRequestId2", "customDomain.basePathMatched",
	"dataProcessed", "identity.accountId", "identity.apiKey", "identity.caller", "identity.cognitoAuthenticationProvider",
	"identity.cognitoAuthenticationType", "identity.cognitoIdentityId", "identity.cognitoIdentityPoolId",
	"identity.principalOrgId", "identity.user", "identity.userArn", "integration.requestId",
	"resourceId", "xrayTraceId", "waf.error", "waf.status", "waf.latency",
	"wafResponseCode", "webaclArn", "authorizer.integrationLatency", "authorizer.latency", "authorizer.status",
	"authorize.error", "authorize.latency", "authorize.status", "authenticate.error", "authenticate.latency",
	"authenticate.status", "integration.integrationStatus",
}

// authorizerPrefix introduces the variables an authorizer's answer carries.
const authorizerPrefix = "authorizer."

// authorizerValue resolves the authorizer.* names that are not fixed.
var authorizerValue = &varDef{name: "authorizer.*"}

// Lookup compiles the variable name (without "$context."): ok is false for
// a name that is not a $context variable. authorizer.claims.X and
// authorizer.X (an authorizer's context key) are accepted for any X.
func Lookup(name string) (Var, bool) {
	if d, ok := defs[name]; ok {
		return Var{def: d}, true
	}
	// "claims" alone names no value: it is reserved for the JWT claims.
	if key, ok := strings.CutPrefix(name, authorizerPrefix); ok && key != "" && key != "claims" {
		return Var{def: authorizerValue, key: key}, true
	}
	return Var{}, false
}

// Names are the fixed variable names Lookup knows (authorizer.claims.X and
// authorizer.X come on top), for documentation checks.
func Names() []string {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	return names
}

// Text is v's value for c as a string ("" when empty). String variables
// return their value without copying.
func (c *Context) Text(v Var) string {
	d := v.def
	switch {
	case d == nil:
		return ""
	case d == authorizerValue:
		if c.Authorizer == nil {
			return ""
		}
		s, _ := c.Authorizer.Value(v.key)
		return s
	case d.str != nil:
		return d.str(c)
	case d.num != nil:
		n := d.num(c)
		if n == 0 && d.zeroIsEmpty {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// appendNumber appends a numeric variable's value (nothing when it is
// empty) without allocating.
func (c *Context) appendNumber(buf []byte, d *varDef) []byte {
	n := d.num(c)
	if n == 0 && d.zeroIsEmpty {
		return buf
	}
	return strconv.AppendInt(buf, n, 10)
}

// requestTime is the CLF form of RequestTime.
func requestTime(c *Context) string {
	if c.RequestTimeText != "" || c.RequestTime.IsZero() {
		return c.RequestTimeText
	}
	return c.RequestTime.Format(RequestTimeLayout)
}
