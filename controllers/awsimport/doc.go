// Package awsimport turns AWS API Gateway definitions into Turnpike's five
// kinds and back: `turnpike import` reads an OpenAPI 3.0/3.1 or Swagger 2.0
// export with x-amazon-apigateway-* extensions (JSON or YAML), or a SAM or
// CloudFormation template, and `turnpike export` writes an Api as an OpenAPI
// 3.0 document with the same extensions.
//
// Invariants:
//   - Parsing is done by libraries: kin-openapi for OpenAPI and Swagger
//     (remote and file $refs refused, never fetched), goformation for
//     templates (short-form intrinsics included), sigs.k8s.io/yaml for YAML.
//   - Every emitted object is a v1alpha1 type that passes the CRD schema and
//     CEL rules (tests run them through controllers/standalone's Validator).
//   - Whatever is not carried over is a Report item naming path, method and
//     extension; nothing is dropped silently. Assumptions are Report notes.
//   - Import is deterministic: the same input gives the same bytes.
package awsimport
