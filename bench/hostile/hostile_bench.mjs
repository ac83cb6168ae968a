// Memory under hostile clients (issue 10, "Limits a hostile client meets"): a
// release brigade on 127.0.0.1, then N clients of one kind at a time, spread over
// loopback addresses (127.1.x.y, 100 per address, under the per-address caps):
//   slowloris   — a request's headers trickle in, one byte every 2 s;
//   handshake   — an Engine.IO polling handshake that never sends CONNECT;
//   ws-silent   — a WebSocket that opens an Engine.IO session and never connects.
// For each kind it prints the server's RSS and open descriptors at baseline, with
// all N in place, and after the server has cut them (idle timeout, connectTimeout),
// as one JSON line per kind plus a summary line. (Readers that stop reading are
// bounded by the send-queue limit: tests/e2e/slow_consumers.test.mjs.)
//
//   node bench/hostile/hostile_bench.mjs [--clients 10000] [--kinds slowloris,handshake,...]
// Run it from bench/hostile/run.sh, which raises the descriptor limit first.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const CLIENTS = Number(opt("--clients", "10000"));
const KINDS = opt("--kinds", "slowloris,handshake,ws-silent").split(",");
const PER_ADDRESS = 100;
const IDLE_TIMEOUT_S = 10;
const binary = process.env.BRIGADE_BIN || path.join(root, "build/release/src/server/brigade");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const addressOf = (i) => `127.1.${Math.floor(i / PER_ADDRESS / 250)}.${(Math.floor(i / PER_ADDRESS) % 250) + 1}`;

function stats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { rss_kib: Number(/VmRSS:\s+(\d+)/.exec(status)[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
}

async function startServer() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "hostile-bench-"));
  const child = spawn(
    binary,
    ["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--no-demo", "--log-level", "error",
     "--idle-timeout", String(IDLE_TIMEOUT_S), "--pwhash-memlimit", "8388608"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /\{"listening":"[^"]*:(\d+)"\}/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`brigade exited ${code}`)));
  });
  return { child, port, dataDir };
}

function connect(port, i) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: addressOf(i) });
    socket.on("error", () => resolve(null));
    socket.resume(); // read and drop what the server sends, so that its close is seen
    socket.once("connect", () => resolve(socket));
  });
}

// Opens `n` clients with `open(i)` in batches; resolves with the ones that opened.
async function openAll(n, open) {
  const all = [];
  for (let i = 0; i < n; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, j) => open(i + j)));
    all.push(...batch.filter(Boolean));
  }
  return all;
}

const wsHandshake = (port) =>
  `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

const kinds = {
  async slowloris(port) {
    const sockets = await openAll(CLIENTS, async (i) => {
      const s = await connect(port, i);
      s?.write("GET /api/menu HTTP/1.1\r\nHost: x\r\n");
      return s;
    });
    const drip = setInterval(() => sockets.forEach((s) => s.destroyed || s.write("X")), 2000);
    return { sockets, stop: () => clearInterval(drip), settleMs: IDLE_TIMEOUT_S * 1000 + 3000 };
  },
  async handshake(port) {
    // Each handshake is a full request on its own connection, closed right after:
    // what stays is the session the server keeps until connectTimeout/ping timeout.
    const sockets = await openAll(CLIENTS, async (i) => {
      const s = await connect(port, i);
      if (!s) return null;
      s.write("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await new Promise((r) => s.once("close", r));
      return s;
    });
    return { sockets, stop: () => {}, settleMs: 50000 };
  },
  async ["ws-silent"](port) {
    const sockets = await openAll(CLIENTS, async (i) => {
      const s = await connect(port, i);
      s?.write(wsHandshake(port));
      return s;
    });
    return { sockets, stop: () => {}, settleMs: 50000 };
  },
};

// A fresh server per kind: freed memory a kind leaves in the allocator would
// otherwise hide the next kind's growth.
const results = [];
for (const kind of KINDS) {
  const server = await startServer();
  try {
    await sleep(500);
    const baseline = stats(server.child.pid);
    const started = Date.now();
    const run = await kinds[kind](server.port);
    const openSeconds = (Date.now() - started) / 1000;
    await sleep(1000);
    const loaded = stats(server.child.pid);
    await sleep(run.settleMs);
    const settled = stats(server.child.pid);
    run.stop();
    for (const s of run.sockets) s.destroy();
    await sleep(1000);
    const after = stats(server.child.pid);
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`).then((r) => r.status).catch(() => 0);
    const line = {
      kind, clients: CLIENTS, opened: run.sockets.length, open_seconds: openSeconds,
      baseline, loaded, settled_after_ms: run.settleMs, settled, after,
      kib_per_client: Number(((loaded.rss_kib - baseline.rss_kib) / Math.max(1, run.sockets.length)).toFixed(2)),
      healthz: health,
    };
    results.push(line);
    console.log(JSON.stringify(line));
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify({ hostile_bench: { clients: CLIENTS, kinds: results.map((r) => r.kind), peak_rss_kib: Math.max(...results.map((r) => r.loaded.rss_kib)) } }));
