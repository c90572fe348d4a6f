package standalone

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
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
	return u, d.contentLine, nil
}
