package standalone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// document is one YAML document of a file.
type document struct {
	// firstLine is the 1-based file line where the document's text begins
	// (the line after its "---" separator).
	firstLine int
	// contentLine is the first line that is neither blank nor a comment: the
	// line reported for errors about the whole object.
	contentLine int
	body        []byte
}

// splitDocuments splits a multi-document YAML file at "---" lines, as
// kubectl's YAML reader does: a separator is a line starting with "---"
// followed only by blanks or a comment. Documents that hold only blanks and
// comments are dropped.
func splitDocuments(data []byte) []document {
	var docs []document
	cur := document{firstLine: 1}
	flush := func() {
		if cur.contentLine > 0 {
			docs = append(docs, cur)
		}
	}
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		lineNo := i + 1
		if isSeparator(line) {
			flush()
			cur = document{firstLine: lineNo + 1}
			continue
		}
		cur.body = append(cur.body, line...)
		if trimmed := bytes.TrimSpace(line); cur.contentLine == 0 && len(trimmed) > 0 && trimmed[0] != '#' {
			cur.contentLine = lineNo
		}
	}
	flush()
	return docs
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

// yamlLine finds the document-relative line in a YAML parser error.
var yamlLine = regexp.MustCompile(`line (\d+)`)

// decode parses one document into an unstructured object with the number
// types the API server's JSON decoder uses (int64 for integers, float64
// otherwise). It returns nil for a document that is YAML null. On a syntax
// error it returns the file line the parser named, else the document's line.
func (d document) decode() (*unstructured.Unstructured, int, error) {
	jsonData, err := yaml.YAMLToJSON(d.body)
	if err != nil {
		line := d.contentLine
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			if n, convErr := strconv.Atoi(m[1]); convErr == nil {
				line = d.firstLine + n - 1
			}
		}
		return nil, line, err
	}
	if bytes.Equal(bytes.TrimSpace(jsonData), []byte("null")) {
		return nil, d.contentLine, nil
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(jsonData, &obj); err != nil {
		return nil, d.contentLine, fmt.Errorf("the document is not a YAML mapping: %w", err)
	}
	u := &unstructured.Unstructured{Object: obj}
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return nil, d.contentLine, fmt.Errorf("apiVersion and kind are required")
	}
	if line, err := d.checkMetadata(obj["metadata"]); err != nil {
		return nil, line, err
	}
	return u, d.contentLine, nil
}

// checkMetadata decodes metadata as the API server does, into ObjectMeta,
// so that a value of the wrong type is an error for the file, with the line
// of its key, instead of being read as absent (unstructured's accessors
// return "" for a namespace that YAML 1.1 read as the boolean false, and the
// object would land in the default namespace, where kubectl apply refuses
// the same file). Unknown metadata fields are left to the API server's
// rules (pruned).
func (d document) checkMetadata(meta any) (int, error) {
	if meta == nil {
		return 0, nil
	}
	data, err := utiljson.Marshal(meta)
	if err != nil {
		return d.contentLine, err
	}
	var om metav1.ObjectMeta
	if _, err := kjson.UnmarshalStrict(data, &om); err != nil {
		line := d.contentLine
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			path := strings.Split(typeErr.Field, ".")
			line = d.keyLine(path[len(path)-1])
			return line, fmt.Errorf("metadata.%s: must be of type %s, not %s (YAML reads unquoted y, n, yes, no, on, off, true and false as booleans and bare numbers as numbers: quote the value)",
				typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return line, fmt.Errorf("metadata: %w", err)
	}
	return 0, nil
}

// keyLine is the file line of the first "key:" of the document (block or
// flow style), else the document's line.
func (d document) keyLine(key string) int {
	re := regexp.MustCompile(`(^|[\s{,])"?` + regexp.QuoteMeta(key) + `"?\s*:`)
	for i, line := range bytes.Split(d.body, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && re.Match(line) {
			return d.firstLine + i
		}
	}
	return d.contentLine
}
