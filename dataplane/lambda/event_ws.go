package lambda

// AppendWebSocketEvent appends the event a WebSocket Api's Lambda
// integration receives (DG:apigateway-websocket-api-route-keys-connect-
// disconnect; shapes of aws-lambda-go's apigw-websocket-request-*.json,
// captured from AWS): requestContext with connectionId, eventType,
// messageId (MESSAGE), connectedAt and requestTimeEpoch in epoch
// milliseconds, messageDirection "IN", disconnectStatusCode and
// disconnectReason (DISCONNECT), and the authorizer's principalId and
// context on every route of the connection. CONNECT and DISCONNECT carry
// the upgrade request's headers (and CONNECT its query); MESSAGE carries
// the message as body. r.WebSocket must be set.
func AppendWebSocketEvent(dst []byte, r *Request) []byte {
	ws := r.WebSocket
	e := newEnc(dst)
	e.b = append(e.b, '{')
	if ws.EventType != EventMessage && (len(r.Header) > 0 || r.Host != "") {
		e.headersV1(r)
	}
	if ws.EventType == EventConnect && r.RawQuery != "" {
		e.queryV1(r, "null")
	}
	e.stringMap("stageVariables", r.StageVariables, "omit")
	e.open("requestContext")
	e.str("routeKey", r.RouteKey)
	if ws.MessageID != "" {
		e.str("messageId", ws.MessageID)
	}
	e.str("eventType", ws.EventType)
	e.str("extendedRequestId", r.extendedRequestID())
	e.time("requestTime", r.Time)
	e.str("messageDirection", "IN")
	if ws.EventType == EventDisconnect {
		if ws.DisconnectStatusCode != 0 {
			e.int("disconnectStatusCode", int64(ws.DisconnectStatusCode))
		}
		e.str("disconnectReason", ws.DisconnectReason)
	}
	e.str("stage", r.Stage)
	e.int("connectedAt", ws.ConnectedAt.UnixMilli())
	e.int("requestTimeEpoch", r.Time.UnixMilli())
	e.open("identity")
	if r.APIKey != "" {
		e.str("apiKey", r.APIKey)
	}
	e.str("userAgent", r.UserAgent)
	e.str("sourceIp", r.SourceIP)
	e.close()
	e.str("requestId", r.RequestID)
	e.str("domainName", r.DomainName)
	e.str("connectionId", ws.ConnectionID)
	e.str("apiId", r.APIID)
	if r.Authorizer != nil {
		e.authorizerV1(r.Authorizer)
	}
	e.close()
	if ws.EventType == EventMessage {
		e.body(r, false)
	} else {
		e.bool("isBase64Encoded", false)
	}
	e.close()
	return e.done()
}
