// Preloaded with `node --import`: every host name resolves to 127.0.0.1,
// as curl --resolve would, because the test gateways listen on loopback and
// names under .localhost do not resolve through glibc here.
import dns from "node:dns";

dns.lookup = (host, options, callback) => {
  const cb = typeof options === "function" ? options : callback;
  const all = typeof options === "object" && options !== null && options.all;
  process.nextTick(() => (all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)));
};
