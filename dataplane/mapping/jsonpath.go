package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// step is one selector of a simple JSONPath: an object key, or an array
// index (index >= 0 and key "").
type step struct {
	key   string
	index int
}

// parseJSONPath parses the JSONPath after "$request.body.": dotted keys,
// [N] indexes and ['key'] or ["key"] selectors, as in a.b[0]['c d'].
// Recursive descent (..), wildcards and filters are refused, as AWS does.
func parseJSONPath(p string) ([]step, error) {
	var out []step
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			if i == 0 || i+1 >= len(p) || p[i+1] == '.' || p[i+1] == '[' {
				return nil, errors.New("JSONPath: empty key or recursive descent (..) is not supported")
			}
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, errors.New("JSONPath: \"[\" is not closed by \"]\"")
			}
			s, err := bracketStep(p[i+1 : i+end])
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			i += end + 1
			continue
		}
		n := i
		for n < len(p) && p[n] != '.' && p[n] != '[' {
			n++
		}
		key := p[i:n]
		if key == "" || key == "*" || strings.ContainsAny(key, "]'\"()?@") {
			return nil, errors.New("JSONPath: key " + strconv.Quote(key) + " is not a plain name (wildcards and filters are not supported)")
		}
		out = append(out, step{key: key, index: -1})
		i = n
	}
	return out, nil
}

func bracketStep(in string) (step, error) {
	if len(in) >= 2 && (in[0] == '\'' && in[len(in)-1] == '\'' || in[0] == '"' && in[len(in)-1] == '"') {
		return step{key: in[1 : len(in)-1], index: -1}, nil
	}
	n, err := strconv.Atoi(in)
	if err != nil || n < 0 || in[0] == '+' {
		return step{}, errors.New("JSONPath: [" + in + "] is neither an index (0, 1, ...) nor a quoted key (wildcards, slices and filters are not supported)")
	}
	return step{index: n}, nil
}

// parseBody decodes a JSON body for JSONPath selection; ok is false for
// malformed JSON (the mapped values are then empty). Numbers keep their text.
func parseBody(body []byte) (v any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return nil, false // trailing data after the value: not one JSON document
	}
	return v, true
}

// selectPath walks v along steps; ok is false when a step finds nothing.
func selectPath(v any, steps []step) (any, bool) {
	for _, s := range steps {
		switch t := v.(type) {
		case map[string]any:
			if s.index >= 0 {
				return nil, false
			}
			var ok bool
			if v, ok = t[s.key]; !ok {
				return nil, false
			}
		case []any:
			if s.index < 0 || s.index >= len(t) {
				return nil, false
			}
			v = t[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// stringify renders a selected JSON value as AWS does: strings as they are,
// numbers and booleans as JSON text, null as "", objects and arrays as
// compact JSON.
func stringify(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
