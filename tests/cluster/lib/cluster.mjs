// The cluster suite's one way to run several brigade nodes: scripts/cluster.sh in a
// fresh directory under /tmp (PostgreSQL runs as the `postgres` user when we are root,
// and must reach it), with a small Argon2id memory (CLUSTER_FAST_HASH=1) and a sign-up
// limit no test reaches (every customer registers from 127.0.0.1). `down()` stops
// everything and removes the directory; a cluster still up when the process exits is
// brought down then, synchronously, so nothing is left behind.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";

import { brigadeBinary, repoRoot } from "../../lib/server.mjs";

export { within } from "../../lib/server.mjs";

const SCRIPT = path.join(repoRoot, "scripts/cluster.sh");
const NODE_ARGS = "--register-limit 100000 --log-level warn";

const live = new Set(); // directories of clusters not brought down yet
// Interrupted (Ctrl-C, a runner's SIGTERM): exit through the "exit" handler below.
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(128 + (signal === "SIGINT" ? 2 : 15)));
process.on("exit", () => {
  for (const dir of live) {
    try {
      execFileSync("bash", [SCRIPT, "down", "--dir", dir], { stdio: "ignore", timeout: 60000 });
    } catch {
      // best effort: the process is exiting
    }
    if (!process.env.CLUSTER_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
  }
});

function env(nodeArgs = "") {
  return {
    ...process.env,
    BRIGADE_BIN: brigadeBinary(),
    CLUSTER_FAST_HASH: "1",
    CLUSTER_NODE_ARGS: `${NODE_ARGS} ${nodeArgs}`.trim(),
  };
}

// Runs `scripts/cluster.sh args...`; resolves with its stdout, rejects with its stderr.
function script(args, timeoutMs = 120000, nodeArgs = "") {
  return new Promise((resolve, reject) => {
    execFile("bash", [SCRIPT, ...args], { env: env(nodeArgs), timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`cluster.sh ${args.join(" ")} failed (${error.code ?? error.signal}): ${stderr.trim()}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function pgScript(args, timeoutMs = 120000) {
  return new Promise((resolve, reject) => {
    execFile("bash", [path.join(repoRoot, "scripts/pg.sh"), ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`pg.sh ${args.join(" ")} failed: ${stderr.trim()}`));
      else resolve(stdout);
    });
  });
}

// Starts a cluster of `nodes` nodes behind HAProxy. Returns
//   { url, nodes: [{id, url, pid}], postgres, accounts: {admin, customer, rider}, dir,
//     node(id), kill(id), stop(id), start(id), pgRestart(mode), pgStop(), pgStart(),
//     status(), psql(sql), down() }
// where url is HAProxy's, node(id) the {id, url} of one node (usable wherever the live
// harness wants a server: it only reads .url), and psql(sql) resolves with the rows of
// a query, each an array of strings. `nodeArgs`: more flags for every node (a string).
export async function startCluster({ nodes = 3, nodeArgs = "" } = {}) {
  const dir = mkdtempSync("/tmp/brigade-cluster-");
  live.add(dir);
  const args = ["--dir", dir];
  let out;
  try {
    out = await script(["up", "--nodes", String(nodes), ...args], 120000, nodeArgs);
  } catch (error) {
    live.delete(dir);
    try {
      await script(["down", ...args]);
    } finally {
      if (!process.env.CLUSTER_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
    }
    throw error;
  }
  const lines = out.trim().split("\n");
  if (lines.length !== 1) throw new Error(`cluster.sh up printed ${lines.length} lines: ${out}`);
  const { cluster } = JSON.parse(lines[0]);
  let down = null;
  const self = {
    ...cluster,
    dir,
    accounts: Object.fromEntries(cluster.demo_accounts.map((a) => [a.role, a])),
    node: (id) => {
      const node = cluster.nodes.find((n) => n.id === id);
      if (!node) throw new Error(`no node ${id}`);
      return node;
    },
    kill: (id) => script(["kill", id, ...args]),
    stop: (id) => script(["stop", id, ...args]),
    start: (id) => script(["start", id, ...args], 120000, nodeArgs),
    pgRestart: (mode = "fast") => script(["pg-restart", mode, ...args]),
    // PostgreSQL down and up again, on the same port (scripts/pg.sh directly:
    // cluster.sh only restarts it in one go).
    pgStop: () => pgScript(["stop", "--dir", path.join(dir, "pg")]),
    pgStart: () => pgScript(["start", "--dir", path.join(dir, "pg")]),
    status: async () => JSON.parse(await script(["status", ...args])).status,
    psql: (sql) =>
      new Promise((resolve, reject) => {
        execFile("psql", ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", cluster.postgres, "-c", sql],
          { timeout: 30000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
            if (error) return reject(new Error(`psql ${sql}: ${error.message} ${stderr}`));
            resolve(stdout.split("\n").filter((l) => l.length).map((l) => l.split("\t")));
          });
      }),
    // Idempotent; the directory goes unless CLUSTER_KEEP_DIR is set (to read the logs).
    down: () => {
      down ??= script(["down", ...args]).finally(() => {
        live.delete(dir);
        if (!process.env.CLUSTER_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
      });
      return down;
    },
  };
  return self;
}

// The last `lines` lines of a node's log (for failure messages).
export function nodeLog(cluster, id, lines = 20) {
  try {
    return execFileSync("tail", ["-n", String(lines), path.join(cluster.dir, `node-${id}.log`)]).toString();
  } catch {
    return "";
  }
}
