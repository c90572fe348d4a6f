package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// WebSocketMetrics are the metrics of WEBSOCKET Apis (AWS's ConnectCount,
// MessageCount, IntegrationError and ClientError, and the connections open
// per Api); dataplane/websocket reports to them. Labels are bounded by
// configuration (Api, stage, event type, outcome) and by the Management
// API's three operations and its status codes.
type WebSocketMetrics struct {
	open       *prometheus.GaugeVec
	events     *prometheus.CounterVec
	management *prometheus.CounterVec
}

// Label names of the WebSocket metrics.
const (
	LabelEvent     = "event"
	LabelOutcome   = "outcome"
	LabelOperation = "operation"
	LabelCode      = "code"
)

func newWebSocketMetrics(reg prometheus.Registerer) *WebSocketMetrics {
	m := &WebSocketMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "turnpike_websocket_connections",
			Help: "WebSocket connections open on this replica, by Api.",
		}, []string{LabelNamespace, LabelAPI}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnpike_websocket_events_total",
			Help: "WebSocket events by Api, stage, event (CONNECT = AWS ConnectCount, MESSAGE = MessageCount, DISCONNECT) and outcome (ok, client_error = AWS ClientError, integration_error = IntegrationError).",
		}, []string{LabelNamespace, LabelAPI, LabelStage, LabelEvent, LabelOutcome}),
		management: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnpike_websocket_management_calls_total",
			Help: "@connections calls by operation (POST, GET, DELETE) and status code.",
		}, []string{LabelOperation, LabelCode}),
	}
	reg.MustRegister(m.open, m.events, m.management)
	return m
}

// WebSocket returns the WebSocket metrics (nil when m is nil).
func (m *Metrics) WebSocket() *WebSocketMetrics {
	if m == nil {
		return nil
	}
	return m.ws
}

// Opened counts a connection opened on Api namespace/api.
func (w *WebSocketMetrics) Opened(namespace, api string) {
	w.open.WithLabelValues(namespace, api).Inc()
}

// Closed counts a connection of Api namespace/api that closed.
func (w *WebSocketMetrics) Closed(namespace, api string) {
	w.open.WithLabelValues(namespace, api).Dec()
}

// Event counts one event of a connection.
func (w *WebSocketMetrics) Event(namespace, api, stage, eventType, outcome string) {
	w.events.WithLabelValues(namespace, api, stage, eventType, outcome).Inc()
}

// Management counts one @connections call.
func (w *WebSocketMetrics) Management(op string, status int) {
	w.management.WithLabelValues(op, strconv.Itoa(status)).Inc()
}
