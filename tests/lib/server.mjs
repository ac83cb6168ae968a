// The one way the Node suites (tests/e2e, tests/api, tests/live, tests/browser) start
// a server: spawn a binary on 127.0.0.1 (port 0 unless given) in a fresh temporary
// data dir, wait for its {"listening":"host:port"} line on stdout (and read the
// {"demo_accounts":[...]} line brigade prints first), keep a bounded log, stop it in
// bounded time (SIGTERM, then SIGKILL), restart it on the same port and data dir, and
// kill whatever is left (and remove the temporary data dirs) when the process exits.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Resolves with the promise's value, or rejects after `ms` with a message naming `what`.
export function within(ms, promise, what = "operation") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Only for time that must really pass (each use says why); never to wait for an event.
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const running = new Set();
const tempDirs = new Set();
process.on("exit", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// A temporary data dir, removed when the process exits (or by server.dispose()).
export function freshDataDir(prefix = "brigade-test-") {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

const LOG_LIMIT = 128 * 1024;

// One spawn; resolves with the child once it printed where it listens.
function spawnOnce({ binary, argv, env, timeoutMs, name }) {
  const child = spawn(binary, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  running.add(child);
  let log = "";
  const keep = (chunk) => {
    log += chunk.toString();
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT / 2);
  };
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let accounts = null;
  const listening = new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      keep(chunk);
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        let parsed;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // a human line
        }
        if (parsed.demo_accounts) accounts = Object.fromEntries(parsed.demo_accounts.map((a) => [a.role, a]));
        if (parsed.listening) resolve(parsed);
      }
    });
    child.on("error", reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`${name} exited before listening (code ${code}, signal ${signal}):\n${log}`)),
    );
  });
  return within(timeoutMs, listening, `${name}'s {"listening":...} line`).then(
    (line) => ({ child, exited, address: line.listening, scheme: line.scheme ?? "http", redirectHttp: line.redirect_http, accounts, output: () => log }),
    (error) => {
      child.kill("SIGKILL");
      throw error;
    },
  );
}

// Starts `binary` and resolves once it listens. Returns the server:
//   { port, url, wsUrl, dataDir, dbPath, accounts, args, exited, output(), alive(),
//     stop(signal | {signal, graceMs}), kill9(), restart(args), dispose() }
// Options:
//   listenArgs(port)  the flags that say where to listen (brigade's --listen by default)
//   dataDirFlag       the flag naming the data dir (null: the binary has none)
//   dataDir           reuse this data dir (a restart); otherwise a fresh temporary one
//   port              0 picks a free port; a given port is retried while it is still taken
//   args              the binary's flags after the defaults
//   accounts          demo accounts carried over a restart (printed on the first start only)
export async function startServer({
  binary,
  name = path.basename(binary ?? "server"),
  listenArgs = (port) => ["--listen", `127.0.0.1:${port}`],
  dataDirFlag = "--data-dir",
  dataDir,
  port = 0,
  args = [],
  env = {},
  accounts,
  timeoutMs = 15000,
} = {}) {
  if (!binary || !existsSync(binary)) {
    throw new Error(`${name} binary not found: ${binary} (build it, or set the suite's variable)`);
  }
  if (dataDirFlag) dataDir ??= freshDataDir(`${name}-`);
  const argv = [...listenArgs(port), ...(dataDirFlag ? [dataDirFlag, dataDir] : []), ...args];
  let started;
  let lastError;
  // The same port again (a restart): the kernel may still hold it for a moment after
  // the old process exited, and there is no event to wait for; a few short retries.
  const attempts = port ? 30 : 1;
  for (let attempt = 0; attempt < attempts && !started; ++attempt) {
    try {
      started = await spawnOnce({ binary, argv, env, timeoutMs, name });
    } catch (error) {
      lastError = error;
      if (attempt + 1 < attempts) await sleep(100);
    }
  }
  if (!started) throw lastError;
  const { child, exited } = started;
  const actualPort = Number(started.address.split(":").pop());
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  // SIGTERM (the graceful path), escalated to SIGKILL after graceMs; SIGKILL
  // simulates a crash. The data dir stays (restart); dispose() removes it.
  const stop = async (how = {}) => {
    const { signal = "SIGTERM", graceMs = 3000 } = typeof how === "string" ? { signal: how } : how;
    if (gone()) return exited;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const server = {
    port: actualPort,
    // https and wss when the server speaks TLS (--tls-cert): its {"listening"} line says so.
    url: `${started.scheme}://127.0.0.1:${actualPort}`,
    wsUrl: `${started.scheme === "https" ? "wss" : "ws"}://127.0.0.1:${actualPort}`,
    redirectHttp: started.redirectHttp,
    pid: child.pid,
    dataDir,
    dbPath: dataDir ? path.join(dataDir, "brigade.db") : undefined,
    args,
    accounts: started.accounts ?? accounts ?? {},
    exited,
    output: started.output,
    alive: () => !gone(),
    stop,
    kill9: () => stop("SIGKILL"),
    // The same binary, data dir and port, as after a crash or an upgrade.
    restart(extraArgs = args) {
      return startServer({
        binary, name, listenArgs, dataDirFlag, dataDir, env, timeoutMs,
        port: actualPort,
        args: extraArgs,
        accounts: server.accounts,
      });
    },
    async dispose() {
      await stop();
      if (dataDir && tempDirs.has(dataDir)) {
        rmSync(dataDir, { recursive: true, force: true });
        tempDirs.delete(dataDir);
      }
    },
  };
  return server;
}

export function brigadeBinary() {
  return process.env.BRIGADE_BIN || path.join(repoRoot, "build/release/src/server/brigade");
}

// Small Argon2id memory so that hashing is fast in tests (still Argon2id).
export const PWHASH_MEMLIMIT = "8388608";

// A fresh database on the test PostgreSQL server; returns its URL.
let testDatabases = 0;
export function createTestDatabase() {
  const base = process.env.BRIGADE_TEST_PG_URL;
  const name = `t_${process.pid}_${Date.now().toString(36)}_${++testDatabases}`;
  execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", `CREATE DATABASE ${name}`], { stdio: "ignore" });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

// Starts the real brigade server with the flags every suite uses: a small Argon2id
// memory and, unless the caller passes its own --register-limit (or registerLimit:
// null), a sign-up limit no suite reaches: the suites register many accounts from
// 127.0.0.1; `logLevel` adds --log-level. `args` come after these defaults. Other
// options: as startServer's.
export async function startBrigade({ args = [], registerLimit = "100000", logLevel, db, ...options } = {}) {
  const defaults = ["--pwhash-memlimit", PWHASH_MEMLIMIT];
  // With BRIGADE_TEST_PG_URL set (CTest label `pg`), each server gets a PostgreSQL
  // database of its own (kept across its restarts) instead of SQLite.
  if (db === undefined && process.env.BRIGADE_TEST_PG_URL && !args.includes("--db")) db = createTestDatabase();
  if (db) defaults.push("--db", db);
  if (logLevel) defaults.push("--log-level", logLevel);
  if (registerLimit !== null && !args.includes("--register-limit")) defaults.push("--register-limit", registerLimit);
  const server = await startServer({ binary: brigadeBinary(), name: "brigade", ...options, args: [...defaults, ...args] });
  server.args = args;
  server.db = db;
  // What tests query as "the database": the PostgreSQL URL when there is one.
  if (db) server.dbPath = db;
  // The same data dir and port, with the same defaults and `extraArgs` (by default the
  // same flags as this start).
  server.restart = (extraArgs = args) =>
    startBrigade({
      ...options,
      registerLimit,
      logLevel,
      db,
      args: extraArgs,
      dataDir: server.dataDir,
      port: server.port,
      accounts: server.accounts,
    });
  // For a brigade started with --test-clock: moves its time forward by `ms` and
  // resolves (with the clock's total offset) once the work that fell due — the
  // store's retention, the sockets' recheck — has run.
  server.advanceClock = async (ms) => {
    const res = await fetch(`${server.url}/__test/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advance_ms: ms }),
      signal: AbortSignal.timeout(15000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /__test/clock -> ${res.status} ${text} (started with --test-clock?)`);
    return JSON.parse(text).offset_ms;
  };
  return server;
}

export function protocolServerBinary() {
  return (
    process.env.BRIGADE_TEST_SERVER ||
    path.join(repoRoot, "build/release/examples/protocol-test-server/protocol-test-server")
  );
}

// Starts examples/protocol-test-server (no data dir; --host/--port).
export function startProtocolServer(options = {}) {
  return startServer({
    binary: protocolServerBinary(),
    name: "protocol-test-server",
    listenArgs: (port) => ["--host", "127.0.0.1", "--port", String(port)],
    dataDirFlag: null,
    ...options,
  });
}
