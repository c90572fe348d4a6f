// Runs @connections calls with the AWS SDK for JavaScript's API Gateway
// Management API client, exactly as a backend would, and prints one JSON
// line per call: {ok, name, status, message, result}.
//
// Usage: node connections.mjs '<json array of calls>'
// A call: {endpoint, op: "post"|"get"|"delete", id, data, accessKeyId,
// secretAccessKey, clockOffsetMs}. Run it with --import ./loopback-dns.mjs:
// the endpoints' host names then resolve to the test's loopback gateways.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
for (const call of JSON.parse(process.argv[2])) {
  const client = new ApiGatewayManagementApiClient({
    endpoint: call.endpoint,
    region: "eu-west-3",
    credentials: { accessKeyId: call.accessKeyId, secretAccessKey: call.secretAccessKey },
    maxAttempts: 1, // show the gateway's first answer (no clock-skew retry)
    systemClockOffset: call.clockOffsetMs || 0,
  });
  const input = { ConnectionId: call.id };
  let cmd;
  switch (call.op) {
    case "post":
      cmd = new PostToConnectionCommand({ ...input, Data: new TextEncoder().encode(call.data) });
      break;
    case "get":
      cmd = new GetConnectionCommand(input);
      break;
    case "delete":
      cmd = new DeleteConnectionCommand(input);
      break;
  }
  try {
    const out = await client.send(cmd);
    const result = {};
    for (const k of ["ConnectedAt", "LastActiveAt", "Identity"]) if (out[k] !== undefined) result[k] = out[k];
    console.log(JSON.stringify({ ok: true, status: out.$metadata.httpStatusCode, result }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, name: e.name, status: e.$metadata?.httpStatusCode, message: e.message }));
  }
}
