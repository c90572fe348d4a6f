package awsimport

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// vtlRE finds Velocity Template Language in a template: a reference
// ($name, ${name}, $!name) or a directive (#set, #if, ...) or a comment.
var vtlRE = regexp.MustCompile(`\$!?\{?[A-Za-z_]|#(set|if|elseif|else|end|foreach|break|stop|define|evaluate|macro|parse|include)\b|##|#\*`)

// isStatic says whether a mapping template has no VTL: its text is the answer.
func isStatic(tpl string) bool { return !vtlRE.MatchString(tpl) }

// mockIntegration converts a MOCK integration. AWS picks the status code
// from the request template ({"statusCode": 200}), then the integration
// response whose selection pattern matches it (else "default"); that
// response's status, static headers ('quoted' responseParameters) and
// static body (responseTemplates) are the answer.
func (c *converter) mockIntegration(po pathOp, raw map[string]any) integrationSpec {
	status := 200
	templates := asMap(raw["requestTemplates"])
	if len(templates) > 0 {
		tpl := str(templates["application/json"])
		if tpl == "" {
			tpl = str(templates[sortedKeys(templates)[0]])
		}
		var sel struct {
			StatusCode int `json:"statusCode"`
		}
		if err := json.Unmarshal([]byte(tpl), &sel); err == nil && sel.StatusCode >= 100 && sel.StatusCode <= 599 {
			status = sel.StatusCode
		} else {
			c.report.add(po.path, po.method, extIntegration+".requestTemplates", "only a static {\"statusCode\": N} template selects the mock's status; %q is not one, so 200 is used", tpl)
		}
	}
	mock := &v1alpha1.Mock{StatusCode: int32(status)}
	resp := selectResponse(asMap(raw["responses"]), strconv.Itoa(status))
	if resp != nil {
		if n, err := strconv.ParseInt(str(resp["statusCode"]), 10, 32); err == nil && n >= 100 && n <= 599 {
			mock.StatusCode = int32(n)
		}
		c.mockHeaders(po, mock, asMap(resp["responseParameters"]))
		c.mockBody(po, mock, asMap(resp["responseTemplates"]))
	}
	return integrationSpec{in: v1alpha1.Integration{Type: v1alpha1.IntegrationTypeMock, Mock: mock}}
}

// selectResponse is AWS's integration response selection for a status code.
func selectResponse(responses map[string]any, status string) map[string]any {
	for _, pattern := range sortedKeys(responses) {
		if pattern == "default" {
			continue
		}
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err == nil && re.MatchString(status) {
			return asMap(responses[pattern])
		}
	}
	if r, ok := responses["default"]; ok {
		return asMap(r)
	}
	return nil
}

func (c *converter) mockHeaders(po pathOp, mock *v1alpha1.Mock, params map[string]any) {
	for _, k := range sortedKeys(params) {
		name, ok := strings.CutPrefix(k, "method.response.header.")
		v := str(params[k])
		if !ok || len(v) < 2 || !strings.HasPrefix(v, "'") || !strings.HasSuffix(v, "'") {
			c.report.add(po.path, po.method, extIntegration+".responses.responseParameters."+k, "only static ('quoted') header values of a mock are carried over")
			continue
		}
		if mock.Headers == nil {
			mock.Headers = map[string]string{}
		}
		mock.Headers[name] = v[1 : len(v)-1]
	}
}

func (c *converter) mockBody(po pathOp, mock *v1alpha1.Mock, templates map[string]any) {
	if len(templates) == 0 {
		return
	}
	ct := "application/json"
	if _, ok := templates[ct]; !ok {
		ct = sortedKeys(templates)[0]
	}
	body := str(templates[ct])
	if !isStatic(body) {
		c.report.add(po.path, po.method, extIntegration+".responses.responseTemplates", "a VTL template is not supported; the mock answers with an empty body")
		return
	}
	if len(templates) > 1 {
		c.report.add(po.path, po.method, extIntegration+".responses.responseTemplates", "the mock answers the %s template whatever the Accept header asks for", ct)
	}
	mock.Body = body
	if body != "" {
		if mock.Headers == nil {
			mock.Headers = map[string]string{}
		}
		if _, set := mock.Headers["Content-Type"]; !set {
			mock.Headers["Content-Type"] = ct
		}
	}
}

// restCORS reads an OPTIONS mock that answers a CORS preflight (AWS REST's
// way of enabling CORS) into a CORS policy; nil if it is not one.
func restCORS(mock *v1alpha1.Mock) *v1alpha1.CORS {
	h := map[string]string{}
	for k, v := range mock.Headers {
		h[strings.ToLower(k)] = v
	}
	origin, ok := h["access-control-allow-origin"]
	if !ok {
		return nil
	}
	cors := &v1alpha1.CORS{AllowOrigins: splitList(origin), AllowMethods: upper(splitList(h["access-control-allow-methods"])),
		AllowHeaders: splitList(h["access-control-allow-headers"]), ExposeHeaders: splitList(h["access-control-expose-headers"])}
	if n, err := strconv.Atoi(h["access-control-max-age"]); err == nil && n > 0 {
		cors.MaxAgeSeconds = int32(min(n, 86400))
	}
	cors.AllowCredentials = strings.EqualFold(h["access-control-allow-credentials"], "true")
	return cors
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mergeCORS adds b's lists to a's.
func mergeCORS(a, b *v1alpha1.CORS) *v1alpha1.CORS {
	if a == nil {
		return b
	}
	add := func(x, y []string) []string {
		for _, v := range y {
			if !containsFold(x, v) {
				x = append(x, v)
			}
		}
		return x
	}
	a.AllowOrigins = add(a.AllowOrigins, b.AllowOrigins)
	a.AllowMethods = add(a.AllowMethods, b.AllowMethods)
	a.AllowHeaders = add(a.AllowHeaders, b.AllowHeaders)
	a.ExposeHeaders = add(a.ExposeHeaders, b.ExposeHeaders)
	a.MaxAgeSeconds = max(a.MaxAgeSeconds, b.MaxAgeSeconds)
	a.AllowCredentials = a.AllowCredentials || b.AllowCredentials
	return a
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
