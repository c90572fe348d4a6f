package awsimport

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// BasePath modes of AWS's importer (api-gateway-import-api-basePath).
const (
	BasePathIgnore  = "ignore"
	BasePathPrepend = "prepend"
	BasePathSplit   = "split"
)

// Options are the flags of `turnpike import`.
type Options struct {
	// Namespace of every object ("" leaves it unset: kubectl's context or
	// standalone's default applies).
	Namespace string
	// Name of the Api; default: the document's info.title made a valid name.
	Name string
	// Stage is the stage name; default "$default".
	Stage string
	// BasePath is ignore (default), prepend or split.
	BasePath string
	// ServiceMap turns an HTTP URI host, a Lambda function name or a function
	// ARN into a Service of the namespace.
	ServiceMap ServiceMap
}

// ServiceTarget is a Service port.
type ServiceTarget struct {
	Name string
	Port int32
}

// ServiceMap maps hosts and function names or ARNs to Services.
type ServiceMap map[string]ServiceTarget

var (
	serviceNameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)    // DNS-1035 label
	namespaceRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`) // DNS-1123 label
)

// Set parses one --service-map entry, KEY=service:port.
func (m *ServiceMap) Set(v string) error {
	key, target, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return fmt.Errorf("--service-map %q: want HOST_OR_FUNCTION=service:port", v)
	}
	name, portStr, ok := strings.Cut(target, ":")
	port, err := strconv.ParseInt(portStr, 10, 32)
	if !ok || err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("--service-map %q: want HOST_OR_FUNCTION=service:port with a port from 1 to 65535", v)
	}
	if len(name) > 63 || !serviceNameRE.MatchString(name) {
		return fmt.Errorf("--service-map %q: %q is not a Service name (lower-case letters, digits and '-', at most 63)", v, name)
	}
	if *m == nil {
		*m = ServiceMap{}
	}
	(*m)[key] = ServiceTarget{Name: name, Port: int32(port)}
	return nil
}

// String lists the entries (flag.Value).
func (m *ServiceMap) String() string {
	if m == nil {
		return ""
	}
	parts := make([]string, 0, len(*m))
	for k, t := range *m {
		parts = append(parts, fmt.Sprintf("%s=%s:%d", k, t.Name, t.Port))
	}
	return strings.Join(parts, ",")
}

func (o *Options) normalise() error {
	if o.Stage == "" {
		o.Stage = v1alpha1.DefaultStageName
	}
	if o.Stage != v1alpha1.DefaultStageName && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`).MatchString(o.Stage) {
		return fmt.Errorf("--stage %q: a stage name is letters, digits, '-' and '_' (or $default)", o.Stage)
	}
	switch o.BasePath {
	case "":
		o.BasePath = BasePathIgnore
	case BasePathIgnore, BasePathPrepend, BasePathSplit:
	default:
		return fmt.Errorf("--basepath %q: want ignore, prepend or split", o.BasePath)
	}
	if o.Namespace != "" && (len(o.Namespace) > 63 || !namespaceRE.MatchString(o.Namespace)) {
		return fmt.Errorf("--namespace %q: a namespace is a DNS label (lower-case letters, digits and '-', at most 63)", o.Namespace)
	}
	if o.Name != "" && o.Name != dnsLabel(o.Name) {
		return fmt.Errorf("--name %q: an Api name is a DNS label (lower-case letters, digits and '-', at most 63), e.g. %q", o.Name, dnsLabel(o.Name))
	}
	return nil
}

var nonLabel = regexp.MustCompile(`[^a-z0-9]+`)

// dnsLabel makes s a DNS label: lower case, runs of other characters become
// '-', at most 63 characters, starting with a letter ("api" if none is left).
func dnsLabel(s string) string {
	s = strings.Trim(nonLabel.ReplaceAllString(strings.ToLower(s), "-"), "-")
	s = strings.TrimLeft(s, "0123456789-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return "api"
	}
	return s
}
