// Package tracing is the dataplane's OpenTelemetry tracing: an OTLP/HTTP
// exporter configured by the standard OTEL_* environment variables, W3C
// trace context in and out, and the three spans of a request (the request
// itself, its authorizer call and its integration call).
//
// Invariants:
//   - Off unless OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and off whenever
//     OTEL_SDK_DISABLED=true. Off means FromEnv returns a nil *Tracer and the
//     dataplane pays one nil check per step: no span, no context, no header.
//   - An incoming traceparent (and tracestate) is the parent of the request
//     span; the backend receives a traceparent naming the integration span,
//     replacing the client's, so the backend's spans join the same trace.
//   - Span names and attributes are bounded by configuration, never by
//     traffic: the request span is named by the route key, never the path
//     (the path is an attribute).
//   - Exporting never blocks a request: spans go through the SDK's batch
//     processor (OTEL_BSP_* tune it), which drops when its queue is full.
//   - The package sets no OpenTelemetry globals: the Tracer carries its own
//     provider and propagator.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName is the OpenTelemetry scope of every span.
const instrumentationName = "github.com/turnpike-io/turnpike/dataplane"

// Tracer starts and ends the dataplane's spans. A nil *Tracer means tracing
// is off; callers check for nil instead of calling methods on it. It is safe
// for concurrent use.
type Tracer struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	shutdown func(context.Context) error
}

// Enabled reports whether the environment (read through getenv) asks for
// traces: an OTLP endpoint is set and the SDK is not disabled.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns a Tracer exporting over OTLP/HTTP as the OTEL_* variables
// say (endpoint, headers, timeout, compression, TLS certificates, sampler,
// batch processor, service name and resource attributes), or nil when
// tracing is off (see Enabled). Only the http/protobuf protocol is built: a
// grpc OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL is an error rather than a silent
// switch. Call Shutdown to flush the last spans.
func FromEnv(ctx context.Context) (*Tracer, error) {
	if !Enabled(os.Getenv) {
		return nil, nil
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(v); p != "" && p != "http/protobuf" {
			return nil, fmt.Errorf("tracing: %s=%q: only http/protobuf is supported", v, p)
		}
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	// The default service name first, so OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES (WithFromEnv, applied later) override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("turnpike")),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && res == nil {
		return nil, errors.Join(fmt.Errorf("tracing: resource: %w", err), exp.Shutdown(ctx))
	}
	// NewTracerProvider reads OTEL_TRACES_SAMPLER(_ARG) itself, and the
	// batch processor OTEL_BSP_*.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return New(tp, tp.Shutdown), nil
}

// New returns a Tracer over provider, with W3C trace context and baggage
// propagation. shutdown (may be nil) is what Shutdown calls.
func New(provider trace.TracerProvider, shutdown func(context.Context) error) *Tracer {
	return &Tracer{
		tracer:   provider.Tracer(instrumentationName),
		prop:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown: shutdown,
	}
}

// Shutdown flushes spans not yet exported and stops the exporter. Safe on a
// nil Tracer.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// StartRequest starts the server span of r as a child of r's traceparent,
// if it carries a valid one, and returns r with the span in its context
// (a shallow copy: headers and body are shared with r). The span is named
// by the HTTP method until EndRequest renames it by route key.
func (t *Tracer) StartRequest(r *http.Request) (*http.Request, trace.Span) {
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			semconv.HTTPRequestMethodKey.String(r.Method),
			semconv.URLPath(r.URL.EscapedPath()),
			semconv.URLScheme(scheme(r)),
			semconv.ServerAddress(r.Host),
			semconv.ClientAddress(r.RemoteAddr),
			semconv.NetworkProtocolVersion(fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor)),
			semconv.UserAgentOriginal(r.UserAgent()),
		))
	return r.WithContext(ctx), span
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// Outcome is how a request ended, for EndRequest.
type Outcome struct {
	// RouteKey names the span when a route matched ("GET /pets/{petId}").
	RouteKey string
	// API is "namespace/name"; Stage the stage name; both empty when unresolved.
	API, Stage string
	// RequestID is the gateway's request id (x-request-id).
	RequestID string
	// Status is the response status (0: none written).
	Status int
	// Error is the gateway's error message, if it answered with an error.
	Error string
}

// EndRequest names span by route key, records the outcome and ends it. As
// OpenTelemetry's HTTP conventions say for servers, only 5xx (or no
// response at all) marks the span as an error.
func (t *Tracer) EndRequest(span trace.Span, o Outcome) {
	if o.RouteKey != "" {
		span.SetName(o.RouteKey)
		span.SetAttributes(attribute.String("turnpike.route_key", o.RouteKey))
		if _, path, ok := strings.Cut(o.RouteKey, " "); ok {
			span.SetAttributes(semconv.HTTPRoute(path))
		}
	}
	span.SetAttributes(
		attribute.String("turnpike.api", o.API),
		attribute.String("turnpike.stage", o.Stage),
		attribute.String("turnpike.request_id", o.RequestID),
	)
	if o.Status > 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(o.Status))
	}
	if o.Status >= 500 || o.Status == 0 {
		span.SetStatus(codes.Error, o.Error)
	}
	span.End()
}

// StartAuthorizer starts the span of an authorizer decision (a JWT check,
// a REQUEST authorizer call or its cache hit) as a child of ctx's span.
// object is the Authorizer's "namespace/name", kind JWT or REQUEST.
func (t *Tracer) StartAuthorizer(ctx context.Context, object, kind string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "authorizer "+object, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("turnpike.authorizer", object), attribute.String("turnpike.authorizer.type", kind)))
}

// EndAuthorizer records the decision (allow, unauthorized, deny, error) and
// ends span; an authorizer failure marks it as an error.
func (t *Tracer) EndAuthorizer(span trace.Span, outcome string, failed bool, message string) {
	span.SetAttributes(attribute.String("turnpike.authorizer.outcome", outcome))
	if failed {
		span.SetStatus(codes.Error, message)
	}
	span.End()
}

// StartIntegration starts the client span of an integration call as a child
// of ctx's span, and writes its traceparent (and tracestate, baggage) into
// h, the headers the backend will receive, replacing the client's.
// kind is the integration type; target says where it goes (the Service
// "namespace/name:port" or the URI).
func (t *Tracer) StartIntegration(ctx context.Context, h http.Header, kind, target string) trace.Span {
	ctx, span := t.tracer.Start(ctx, "integration "+kind, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("turnpike.integration.type", kind), attribute.String("turnpike.integration.target", target)))
	delete(h, "Traceparent")
	delete(h, "Tracestate")
	t.prop.Inject(ctx, propagation.HeaderCarrier(h))
	return span
}

// EndIntegration records the backend's status (0: none) or the cause of the
// failure, and ends span. A failure or a 5xx from the backend marks it as an
// error.
func (t *Tracer) EndIntegration(span trace.Span, upstreamStatus int, cause string) {
	if upstreamStatus > 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(upstreamStatus))
	}
	switch {
	case cause != "":
		span.SetAttributes(semconv.ErrorTypeKey.String(cause))
		span.SetStatus(codes.Error, cause)
	case upstreamStatus >= 500:
		span.SetStatus(codes.Error, "")
	}
	span.End()
}
