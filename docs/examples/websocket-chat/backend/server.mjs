// A chat backend for Turnpike's WebSocket example (docs/websocket.md).
//
// Turnpike calls it over HTTP for each event of a connection ($connect,
// sendmessage, $disconnect) with the connection id in
// x-turnpike-connection-id, and it pushes messages to the clients through
// the @connections API with the AWS SDK's API Gateway Management API
// client: the same code runs against AWS API Gateway with another endpoint.
//
// Environment: PORT (default 3000), TURNPIKE_ENDPOINT (the stage's URL,
// e.g. http://chat.default.execute-api.localhost:8080/prod), and the
// access key of the Api's credential Secret in AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (read by the SDK as usual).
import http from "node:http";
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  GoneException,
} from "@aws-sdk/client-apigatewaymanagementapi";

const connections = new Map(); // connection id -> name

const management = new ApiGatewayManagementApiClient({
  endpoint: process.env.TURNPIKE_ENDPOINT,
  region: "us-east-1", // any region: Turnpike has none
});

async function broadcast(text) {
  const data = new TextEncoder().encode(text);
  await Promise.all(
    [...connections.keys()].map(async (id) => {
      try {
        await management.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
      } catch (e) {
        if (e instanceof GoneException) connections.delete(id); // closed meanwhile
        else throw e;
      }
    }),
  );
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

const server = http.createServer(async (req, res) => {
  const id = req.headers["x-turnpike-connection-id"];
  try {
    switch (req.url.split("?")[0]) {
      case "/connect": {
        // $connect: the query string of the WebSocket URL is here.
        const name = new URL(req.url, "http://x").searchParams.get("name");
        if (!name) {
          res.writeHead(400, { "content-type": "application/json" });
          return res.end(JSON.stringify({ message: "connect with ?name=..." }));
        }
        connections.set(id, name);
        break;
      }
      case "/sendmessage": {
        const { message } = JSON.parse(await readBody(req));
        await broadcast(`${connections.get(id)}: ${message}`);
        break;
      }
      case "/disconnect":
        connections.delete(id);
        break;
    }
    res.writeHead(200).end();
  } catch (e) {
    console.error(e);
    res.writeHead(500).end();
  }
});

server.listen(Number(process.env.PORT || 3000), "127.0.0.1", () => console.log("chat backend listening"));
