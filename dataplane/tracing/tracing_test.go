package tracing

import (
	"context"
	"testing"
)

func TestTracingIsOnOnlyWithAnOTLPEndpointAndNotDisabled(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, false},
		{"disabled false", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "false"}, true},
		{"only a service name", map[string]string{"OTEL_SERVICE_NAME": "gw"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Enabled(func(k string) string { return c.env[k] }); got != c.want {
				t.Fatalf("Enabled = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFromEnvReturnsNoTracerWhenOff(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	tr, err := FromEnv(context.Background())
	if tr != nil || err != nil {
		t.Fatalf("FromEnv = %v, %v; want nil, nil", tr, err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of a nil tracer: %v", err)
	}
}

func TestFromEnvRefusesTheGRPCProtocolInsteadOfIgnoringIt(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if tr, err := FromEnv(context.Background()); err == nil {
		_ = tr.Shutdown(context.Background())
		t.Fatal("FromEnv accepted OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
	}
}
