// Builds the Markdown comparison table from loadgen's JSON lines.
//   node bench/load/make-table.mjs results.jsonl [machine.txt]
// Each line's label is "<server>/<scenario>" (server: brigade, node or
// brigade-tls). With brigade-tls lines, a second table sets Brigade over TLS
// beside Brigade plain.
import { readFileSync, existsSync } from "node:fs";

const [resultsPath, machinePath] = process.argv.slice(2);
if (!resultsPath) {
  console.error("usage: make-table.mjs results.jsonl [machine.txt]");
  process.exit(2);
}

const runs = {}; // runs[scenario][server] = result
for (const line of readFileSync(resultsPath, "utf8").split("\n")) {
  if (!line.startsWith("{")) continue;
  const r = JSON.parse(line);
  const [server, scenario] = String(r.label).split("/");
  (runs[scenario] ??= {})[server] = r;
}

const kb = (v) => v / 1024;
// [figure, scenario, field, unit, transform, decimals, target: {op, ratio} | null]
const rows = [
  ["Memory per idle connection, 1k", "mem-1k", "bytes_per_conn", "KB", kb, 2, null],
  ["Memory per idle connection, 5k", "mem-5k", "bytes_per_conn", "KB", kb, 2, null],
  ["Memory per idle connection, 10k", "mem-10k", "bytes_per_conn", "KB", kb, 2, { op: "<=", ratio: 0.2 }],
  ["Memory per idle connection, 15k", "mem-15k", "bytes_per_conn", "KB", kb, 2, null],
  ["Memory per idle connection, 2k (quick)", "mem-2k", "bytes_per_conn", "KB", kb, 2, null],
  ["Connections accepted per second", "accept", "connections_per_s", "conn/s", null, 0, { op: ">=", ratio: 3 }],
  ["Saturated fan-out to 1k: delivered", "fanout-sat-1k", "msgs_per_s", "msgs/s", null, 0, null],
  ["Saturated fan-out to 1k: server CPU per msg", "fanout-sat-1k", "server_cpu_us_per_msg", "µs", null, 2, null],
  ["Saturated fan-out to 1k: lost", "fanout-sat-1k", "lost", "msgs", null, 0, null],
  ["Saturated fan-out to 10k: delivered", "fanout-sat-10k", "msgs_per_s", "msgs/s", null, 0, { op: ">=", ratio: 1.4 }],
  ["Saturated fan-out to 10k: server CPU per msg", "fanout-sat-10k", "server_cpu_us_per_msg", "µs", null, 2, { op: "<=", ratio: 0.6 }],
  ["Saturated fan-out to 10k: lost", "fanout-sat-10k", "lost", "msgs", null, 0, null],
  ["Fan-out to 10k at 2/s: p50", "fanout-2hz-10k", "latency_p50_ms", "ms", null, 1, null],
  ["Fan-out to 10k at 2/s: p99", "fanout-2hz-10k", "latency_p99_ms", "ms", null, 1, { op: "<=", ratio: 0.8 }],
  ["Fan-out to 1k at 2/s: p99 (quick)", "fanout-2hz-1k", "latency_p99_ms", "ms", null, 1, null],
  ["Fan-out to 1k at 20/s: p50", "fanout-20hz-1k", "latency_p50_ms", "ms", null, 1, null],
  ["Fan-out to 1k at 20/s: p99", "fanout-20hz-1k", "latency_p99_ms", "ms", null, 1, { op: "<=", ratio: 0.8 }],
  ["Echo 100 × 10 outstanding: round trips", "echo-100x10", "round_trips_per_s", "rt/s", null, 0, { op: ">=", ratio: 1.6 }],
  ["Echo 100 × 10 outstanding: p50", "echo-100x10", "latency_p50_ms", "ms", null, 2, null],
  ["Echo 100 × 10 outstanding: p99", "echo-100x10", "latency_p99_ms", "ms", null, 2, null],
  ["Echo 100 × 10 outstanding: server CPU per trip", "echo-100x10", "server_cpu_us_per_trip", "µs", null, 2, null],
];

function cell(run, field, transform, decimals) {
  if (!run) return { text: "–", value: null };
  const raw = run[field];
  if (raw === null || raw === undefined) return { text: run.ok ? "–" : "failed", value: null };
  const value = transform ? transform(raw) : raw;
  const text = value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  return { text: run.ok ? text : `${text} (!)`, value };
}

const has = (server) => Object.values(runs).some((pair) => pair[server]);

const out = [];
if (machinePath && existsSync(machinePath)) {
  for (const line of readFileSync(machinePath, "utf8").trim().split("\n")) out.push(`- ${line}`);
  out.push("");
}
if (has("brigade") || has("node")) {
  out.push("| Figure | Brigade | Node socket.io | Brigade / Node | Target |");
  out.push("|---|---:|---:|---:|---|");
}
for (const [figure, scenario, field, unit, transform, decimals, target] of rows) {
  const pair = runs[scenario];
  if (!pair || !(pair.brigade || pair.node)) continue;
  const b = cell(pair.brigade, field, transform, decimals);
  const n = cell(pair.node, field, transform, decimals);
  let ratio = "–";
  let verdict = target ? `${target.op} ${target.ratio}×` : "";
  if (field === "lost") {
    verdict = "0";
    if (b.value !== null) verdict += b.value === 0 ? " ✓" : " ✗";
  } else if (b.value !== null && n.value !== null && n.value !== 0) {
    const r = b.value / n.value;
    ratio = `${r.toFixed(2)}×`;
    if (target) {
      const met = target.op === "<=" ? r <= target.ratio : r >= target.ratio;
      verdict += met ? " ✓" : " ✗";
    }
  }
  out.push(`| ${figure} (${unit}) | ${b.text} | ${n.text} | ${ratio} | ${verdict} |`);
}

// Brigade over TLS beside Brigade plain: the same figures, plus what a TLS
// comparison needs (echo's unanswered acks, the load generator's own CPU, which
// decrypts every message and shares the cores with the server).
if (has("brigade-tls")) {
  const tlsRows = [];
  rows.forEach((row, i) => {
    tlsRows.push(row);
    const scenario = row[1];
    if (rows[i + 1]?.[1] === scenario) return;
    const name = row[0].split(":")[0];
    if (scenario.startsWith("echo")) {
      tlsRows.push([`${name}: unanswered`, scenario, "unanswered", "acks", null, 0, null]);
    }
    if (scenario.startsWith("fanout-sat") || scenario.startsWith("echo")) {
      tlsRows.push([`${name}: loadgen CPU`, scenario, "loadgen_cpu_s", "s", null, 2, null]);
    }
  });
  const cipher = Object.values(runs).find((pair) => pair["brigade-tls"]?.tls)?.["brigade-tls"].tls;
  if (out.length > 0) out.push("");
  out.push(`Brigade over TLS${cipher ? ` (${cipher})` : ""} beside Brigade plain:`);
  out.push("");
  out.push("| Figure | Brigade plain | Brigade TLS | TLS / plain |");
  out.push("|---|---:|---:|---:|");
  for (const [figure, scenario, field, unit, transform, decimals] of tlsRows) {
    const pair = runs[scenario];
    if (!pair || !pair["brigade-tls"]) continue;
    const p = cell(pair.brigade, field, transform, decimals);
    const t = cell(pair["brigade-tls"], field, transform, decimals);
    let ratio = "–";
    const counted = field === "lost" || field === "unanswered";
    if (p.value !== null && t.value !== null && p.value !== 0 && !counted) {
      ratio = `${(t.value / p.value).toFixed(2)}×`;
    }
    out.push(`| ${figure} (${unit}) | ${p.text} | ${t.text} | ${ratio} |`);
  }
}
out.push("");
out.push("(!) marks a run that reported failures, protocol errors, losses or a timeout; see its .out/.err files.");
console.log(out.join("\n"));
