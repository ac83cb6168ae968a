// Shared helpers of the end-to-end suite: start protocol-test-server on 127.0.0.1
// (port 0 by default, so test files run in parallel), raw HTTP and WebSocket
// clients with buffered events, and the npm socket.io-client resolved from the
// repository root (never from the current directory).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
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

export function serverBinary() {
  const fromEnv = process.env.BRIGADE_TEST_SERVER;
  if (fromEnv) return fromEnv;
  return path.join(repoRoot, "build/release/examples/protocol-test-server/protocol-test-server");
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves with the promise's value, or rejects after `ms` with a message naming `what`.
export function within(ms, promise, what = "operation") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

// Starts the server; resolves once it prints {"listening":"host:port"}.
// Returns { port, url, wsUrl, stop(signal), exited, output() }.
// `args`: extra command-line flags (e.g. ["--ping-interval", "2000"]).
export async function startServer({ port = 0, timeoutMs = 10000, env = {}, args = [] } = {}) {
  const binary = serverBinary();
  if (!existsSync(binary)) {
    throw new Error(`server binary not found: ${binary} (build protocol-test-server or set BRIGADE_TEST_SERVER)`);
  }
  const child = spawn(binary, ["--host", "127.0.0.1", "--port", String(port), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  running.add(child);
  let log = "";
  const keep = (chunk) => {
    log += chunk.toString();
    if (log.length > 64 * 1024) log = log.slice(-32 * 1024);
  };
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const listening = new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      keep(chunk);
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        try {
          const parsed = JSON.parse(line);
          if (parsed.listening) resolve(parsed.listening);
        } catch {
          // not the line we wait for
        }
      }
    });
    child.on("error", reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}): ${log}`)),
    );
  });

  let address;
  try {
    address = await within(timeoutMs, listening, "the server's listening line");
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const actualPort = Number(address.split(":").pop());
  const server = {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    wsUrl: `ws://127.0.0.1:${actualPort}`,
    exited,
    output: () => log,
    // SIGTERM is the graceful path; SIGKILL simulates a crash. Escalates to SIGKILL after 3 s.
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return server;
}

// Starts on a given port, retrying while the port is not yet free again.
export async function startServerOnPort(port, { attempts = 20 } = {}) {
  let lastError;
  for (let i = 0; i < attempts; ++i) {
    try {
      return await startServer({ port });
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  throw lastError;
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
