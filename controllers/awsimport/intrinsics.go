package awsimport

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// Intrinsic function handlers for goformation. Its defaults resolve Ref to
// parameter defaults only and GetAtt to nothing, which would erase which
// Lambda function or API a property names; these keep a resource's logical
// ID for Ref and give functions an ARN of their name for GetAtt Arn, so an
// integration URI built with !Sub still names its function.

// fakeAccount and fakeRegion stand in for the stack's account and region
// (the same values goformation uses for the pseudo parameters).
const (
	fakeAccount = "123456789012"
	fakeRegion  = "us-east-1"
)

func templateHandlers() map[string]intrinsics.IntrinsicHandler {
	return map[string]intrinsics.IntrinsicHandler{
		"Ref":        refHandler,
		"Fn::GetAtt": getAttHandler,
		"Fn::Sub":    subHandler,
	}
}

func templateResources(template any) map[string]any {
	return asMap(asMap(template)["Resources"])
}

// refHandler: pseudo parameters and parameters as goformation resolves them;
// a resource's logical ID stays the logical ID.
func refHandler(name string, input any, template any) any {
	s, ok := input.(string)
	if !ok {
		return nil
	}
	if v := intrinsics.Ref(name, input, template); v != nil {
		return v
	}
	if _, ok := templateResources(template)[s]; ok {
		return s
	}
	return nil
}

// getAttHandler: X.Arn of a function is a Lambda ARN of its name; any other
// attribute is "X.Attr".
func getAttHandler(_ string, input any, template any) any {
	var id, attr string
	switch x := input.(type) {
	case []any:
		if len(x) == 2 {
			id, attr = str(x[0]), str(x[1])
		}
	case string:
		id, attr, _ = strings.Cut(x, ".")
	}
	if id == "" {
		return nil
	}
	res := asMap(templateResources(template)[id])
	switch str(res["Type"]) {
	case "AWS::Lambda::Function", "AWS::Serverless::Function":
		if attr == "Arn" {
			return functionARN(id, res)
		}
	}
	return id + "." + attr
}

// functionARN is the ARN standing in for a function of the template: its
// FunctionName when the template sets one, else its logical ID.
func functionARN(id string, res map[string]any) string {
	name := id
	if n, ok := asMap(res["Properties"])["FunctionName"].(string); ok && n != "" {
		name = n
	}
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", fakeRegion, fakeAccount, name)
}

var subVarRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// subHandler is Fn::Sub: ${Param}, ${Resource}, ${Resource.Attr},
// ${AWS::Region}, ${!Literal} (which stays ${Literal}, so API Gateway's own
// ${stageVariables.x} survives), and the variables of the list form.
func subHandler(_ string, input any, template any) any {
	var tpl string
	vars := map[string]any{}
	switch x := input.(type) {
	case string:
		tpl = x
	case []any:
		if len(x) != 2 {
			return nil
		}
		tpl = str(x[0])
		vars = asMap(x[1])
	default:
		return nil
	}
	return subVarRE.ReplaceAllStringFunc(tpl, func(m string) string {
		name := m[2 : len(m)-1]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			return "${" + lit + "}"
		}
		if v, ok := vars[name]; ok {
			return str(v)
		}
		var v any
		if strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::") {
			v = getAttHandler("Fn::GetAtt", name, template)
		} else {
			v = refHandler("Ref", name, template)
		}
		if s, ok := v.(string); ok {
			return s
		}
		return ""
	})
}
