package standalone

import (
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apiserver/pkg/cel/common"
)

// cachedSchema is the CEL adaptor of a structural schema, upstream's
// model.Structural with the schemas below it built once instead of on each
// call: model.Structural.Properties copies every property schema into a
// new map whenever CEL looks a field up. Every method answers what
// model.Structural answers for the same schema (the others are
// model.Structural's own, promoted), so CEL values built on it behave
// identically. The schema must not change after construction; the maps
// returned are shared and, as in every caller in k8s.io/apiserver, only
// read.
type cachedSchema struct {
	*model.Structural
	// props is nil exactly when the schema's Properties is nil.
	props      map[string]common.Schema
	items      common.Schema
	additional common.SchemaOrBool
	// withMeta is WithTypeAndObjectMeta's result, kept for embedded
	// resources (the only schemas CEL asks for it).
	withMeta common.Schema
}

var _ common.Schema = (*cachedSchema)(nil)

// newCachedSchema adapts s and, recursively, its items, properties and
// additionalProperties.
func newCachedSchema(s *structuralschema.Structural) *cachedSchema {
	c := &cachedSchema{Structural: &model.Structural{Structural: s}}
	if s.Properties != nil {
		c.props = make(map[string]common.Schema, len(s.Properties))
		for name, prop := range s.Properties {
			c.props[name] = newCachedSchema(&prop)
		}
	}
	if s.Items != nil {
		c.items = newCachedSchema(s.Items)
	}
	if s.AdditionalProperties != nil {
		c.additional = newCachedSchemaOrBool(s.AdditionalProperties)
	}
	if s.XEmbeddedResource {
		if m := model.WithTypeAndObjectMeta(s); m != s {
			c.withMeta = newCachedSchema(m)
		} else {
			c.withMeta = c
		}
	}
	return c
}

// Properties is model.Structural.Properties without the copy.
func (c *cachedSchema) Properties() map[string]common.Schema { return c.props }

// Items is model.Structural.Items without the allocation.
func (c *cachedSchema) Items() common.Schema { return c.items }

// AdditionalProperties is model.Structural.AdditionalProperties without the
// allocation.
func (c *cachedSchema) AdditionalProperties() common.SchemaOrBool { return c.additional }

// WithTypeAndObjectMeta is model.Structural.WithTypeAndObjectMeta, built
// once for embedded resources.
func (c *cachedSchema) WithTypeAndObjectMeta() common.Schema {
	if c.withMeta != nil {
		return c.withMeta
	}
	return newCachedSchema(model.WithTypeAndObjectMeta(c.Structural.Structural))
}

// cachedSchemaOrBool is model.StructuralOrBool with its schema built once.
type cachedSchemaOrBool struct {
	schema common.Schema
	allows bool
}

func newCachedSchemaOrBool(sb *structuralschema.StructuralOrBool) *cachedSchemaOrBool {
	c := &cachedSchemaOrBool{allows: sb.Bool}
	if sb.Structural != nil {
		c.schema = newCachedSchema(sb.Structural)
	}
	return c
}

// Schema returns nil (an untyped nil, as model.StructuralOrBool) when there
// is no schema.
func (c *cachedSchemaOrBool) Schema() common.Schema { return c.schema }

func (c *cachedSchemaOrBool) Allows() bool { return c.allows }
