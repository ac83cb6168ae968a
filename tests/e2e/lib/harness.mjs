// Shared helpers of the end-to-end suite: start protocol-test-server on 127.0.0.1
// (port 0 by default, so test files run in parallel; tests/lib/server.mjs), raw HTTP and WebSocket
// clients with buffered events, and the npm socket.io-client resolved from the
// repository root (never from the current directory).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

import { repoRoot, startProtocolServer, within } from "../../lib/server.mjs";

// BRIGADE_TEST_TLS=1: the same suite over HTTPS and WSS (CTest's tls_e2e_* tests). One
// self-signed certificate for the run; the clients do not check it (tests only).
export const TLS = process.env.BRIGADE_TEST_TLS === "1";
let tlsArgs = [];
if (TLS) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "brigade-e2e-tls-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore", timeout: 30000 });
  tlsArgs = ["--tls-cert", path.join(dir, "cert.pem"), "--tls-key", path.join(dir, "key.pem")];
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"; // fetch and raw WebSockets
}
// socket.io-client passes its own rejectUnauthorized (default true) to its transports.
export const TLS_CLIENT = TLS ? { rejectUnauthorized: false } : {};

export { repoRoot };
const requireFromRoot = createRequire(path.join(repoRoot, "package.json"));

// ws is a dependency of socket.io-client (engine.io-client); Node 20 has no global WebSocket.
export const WebSocket = requireFromRoot("ws");
export const { io, Manager } = requireFromRoot("socket.io-client");
export const clientBundlePath = path.join(
  path.dirname(requireFromRoot.resolve("socket.io-client/package.json")),
  "dist",
  "socket.io.js",
);

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;

export { protocolServerBinary as serverBinary, sleep, within } from "../../lib/server.mjs";

// Starts protocol-test-server (tests/lib/server.mjs); resolves once it listens.
// Returns { port, url, wsUrl, stop(signal), kill9(), restart(), exited, output() }.
// `args`: extra command-line flags (e.g. ["--ping-interval", "2000"]).
export function startServer({ port = 0, timeoutMs = 10000, env = {}, args = [] } = {}) {
  return startProtocolServer({ port, timeoutMs, env, args: [...tlsArgs, ...args] });
}

// Starts on a given port (a restart), retrying while the port is not yet free again.
export function startServerOnPort(port) {
  return startProtocolServer({ port, args: tlsArgs });
}

// A raw WebSocket whose open/message/close events are queued until awaited,
// so no event is lost between two awaits.
// With autoPong, Engine.IO PINGs are answered at once and never queued.
export function rawWebSocket(url, { binaryType = "arraybuffer", autoPong = false } = {}) {
  const socket = new WebSocket(url);
  socket.binaryType = binaryType;
  const queues = { open: [], message: [], close: [] };
  const waiters = { open: [], message: [], close: [] };
  const push = (type, event) => {
    if (waiters[type].length) waiters[type].shift()(event);
    else queues[type].push(event);
  };
  socket.on("open", () => push("open", {}));
  socket.on("message", (data, isBinary) => {
    if (autoPong && !isBinary && data.toString() === "2") {
      socket.send("3");
      return;
    }
    // Text frames as strings, binary frames as ArrayBuffer (like the browser API).
    push("message", { data: isBinary ? toArrayBuffer(data) : data.toString() });
  });
  socket.on("close", (code, reason) => {
    push("close", { code, reason: reason.toString() });
    // Wake every waiter on message too: nothing more will come.
    while (waiters.message.length) waiters.message.shift()(null);
  });
  socket.on("error", () => {});  // close follows every error
  socket.next = (type = "message", ms = 3000) => {
    if (queues[type].length) return Promise.resolve(queues[type].shift());
    if (type === "message" && socket.readyState >= WebSocket.CLOSING && !queues.message.length) {
      return Promise.resolve(null);
    }
    return within(ms, new Promise((resolve) => waiters[type].push(resolve)), `WebSocket ${type}`);
  };
  // The next message that is not an Engine.IO PING ("2"), which is answered by a PONG.
  socket.nextNonPing = async (ms = 3000) => {
    for (;;) {
      const event = await socket.next("message", ms);
      if (event && event.data === "2") {
        socket.send("3");
        continue;
      }
      return event;
    }
  };
  socket.closed = () => socket.next("close", 3000);
  return socket;
}

export function toArrayBuffer(data) {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

export function bytes(arrayBuffer) {
  return [...new Uint8Array(arrayBuffer)];
}

// fetch with a deadline (global fetch of Node 20).
export function httpRequest(url, { timeoutMs = 5000, ...init } = {}) {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...init });
}

// A socket.io-client socket with short retry delays; `forceNew` so every socket has its own connection.
export function client(server, nsp = "/", options = {}) {
  return io(`${server.url}${nsp}`, {
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    ...TLS_CLIENT,
    ...options,
  });
}

// Resolves with the args of the next `event` on an emitter (socket.io-client socket or manager).
export function nextEvent(emitter, event, ms = 3000) {
  return within(
    ms,
    new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
    `event "${event}"`,
  );
}

export async function connected(socket, ms = 5000) {
  if (socket.connected) return socket;
  await within(
    ms,
    new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    }),
    "connect",
  );
  return socket;
}
