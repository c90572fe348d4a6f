package awsimport

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Item is one thing of the source that was not carried over: where it is
// (path and method, or the API or template resource), which extension or
// property it is, and why.
type Item struct {
	// Path is the OpenAPI path ("/pets/{petId}") or "" for the whole API.
	Path string
	// Method is the HTTP method ("GET", "ANY") or "" for a path or the API.
	Method string
	// Extension is the x-amazon-apigateway-* extension or property, e.g.
	// "x-amazon-apigateway-integration.requestTemplates".
	Extension string
	// Reason says what happens instead, in words.
	Reason string
}

// String formats the item as one report line.
func (i Item) String() string {
	where := "API"
	switch {
	case i.Method != "" && i.Path != "":
		where = i.Method + " " + i.Path
	case i.Path != "":
		where = i.Path
	}
	return fmt.Sprintf("not carried over: %s: %s: %s", where, i.Extension, i.Reason)
}

// Report lists what an import did not carry over (Items) and the assumptions
// it made (Notes). --strict fails on Items only: a note is carried over.
type Report struct {
	Items []Item
	Notes []string
}

func (r *Report) add(path, method, ext, format string, args ...any) {
	r.Items = append(r.Items, Item{Path: path, Method: method, Extension: ext, Reason: fmt.Sprintf(format, args...)})
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Write prints the report, one line each, items first (in source order) and
// then the notes, deduplicated.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	for _, it := range r.Items {
		b.WriteString(it.String())
		b.WriteByte('\n')
	}
	notes := slices.Clone(r.Notes)
	slices.Sort(notes)
	for _, n := range slices.Compact(notes) {
		b.WriteString("note: ")
		b.WriteString(n)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
