// Package websocket serves the connections of WEBSOCKET Apis (api.md,
// docs/websocket.md): the registry of open connections, the read loop that
// turns each message into an event, the limits (frame and message size,
// idle time, lifetime), the @connections management API with its AWS
// Signature Version 4 check, and the forwarding of @connections calls to
// the replica that owns a connection.
//
// The request chain stays in the dataplane package: the upgrade request
// runs it as any request does ($connect's route, throttle, authorizer, API
// key, mapping, integration), and every later event of a connection
// (MESSAGE, DISCONNECT) runs it again through the Dispatcher, so events get
// the same throttles, parameter mapping, integrations, access log lines and
// metrics as requests, on the table in effect when they arrive.
//
// Invariants:
//   - A connection is in the registry (and @connections can reach it) only
//     between its accepted upgrade and the start of its close: posting to a
//     connection during $connect, or after it started closing, is 410.
//   - Each connection has one goroutine, its reader. It handles the
//     connection's messages one at a time, in order, and it alone runs
//     $disconnect, exactly once, after the connection stopped reading,
//     whoever closed it (client, limit, DELETE @connections, config change,
//     shutdown).
//   - A close the gateway starts records its status code and reason first,
//     so $disconnect reports the gateway's reason, not the echo of it.
//   - A connection id names its owner replica (ids.go); only the owner
//     touches the connection. Other replicas forward @connections calls to
//     it unchanged, and the owner verifies the caller's signature again:
//     there is no internal endpoint that trusts its caller.
//   - Secret access keys are never logged, rendered or compared other than
//     through the AWS SDK's signer and a constant-time comparison.
package websocket
