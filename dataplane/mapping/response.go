package mapping

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// Response is a compiled responseParameters map: operations per integration
// status code. Immutable once compiled.
type Response struct {
	byStatus map[int][]op
	src      map[string]map[string]string
}

// CompileResponse compiles responseParameters (status code -> key -> value);
// nil params give a nil *Response. The error names the first bad entry.
func CompileResponse[M ~map[string]string](params map[string]M) (*Response, error) {
	if len(params) == 0 {
		return nil, nil
	}
	m := &Response{byStatus: make(map[int][]op, len(params)), src: make(map[string]map[string]string, len(params))}
	for _, code := range slices.Sorted(maps.Keys(params)) {
		n, err := strconv.Atoi(code)
		if err != nil || n < 100 || n > 599 || strconv.Itoa(n) != code {
			return nil, fmt.Errorf("responseParameters[%q]: keys are status codes from 100 to 599", code)
		}
		ops, err := compileOps(params[code], phaseResponse, "responseParameters["+strconv.Quote(code)+"]")
		if err != nil {
			return nil, err
		}
		m.byStatus[n] = ops
		m.src[code] = maps.Clone(map[string]string(params[code]))
	}
	return m, nil
}

// MarshalJSON renders the mapping as written.
func (m *Response) MarshalJSON() ([]byte, error) { return marshalSource(m.src) }

// Maps reports whether the mapping has operations for status.
func (m *Response) Maps(status int) bool {
	return m != nil && m.byStatus[status] != nil
}

// Apply runs the operations for the integration's status on header h (in
// place) and returns the status to send. in.ResponseHeader should be h:
// values are evaluated before any operation. A mapped status code that is
// not an integer from 200 to 599 leaves the status unchanged.
func (m *Response) Apply(status int, in *Input, h map[string][]string) int {
	if m == nil {
		return status
	}
	ops := m.byStatus[status]
	var buf [16]string
	vals := buf[:0]
	for i := range ops {
		vals = append(vals, ops[i].value.eval(in))
	}
	out := status
	for i := range ops {
		o := &ops[i]
		if o.tgt == tgtStatus {
			if n, ok := statusCode(vals[i]); ok {
				out = n
			}
			continue
		}
		applyHeader(h, o, vals[i])
	}
	return out
}
