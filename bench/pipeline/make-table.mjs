// Turns pipeline-loadgen's JSON lines (results.jsonl) into the Markdown table of
// docs/BENCHMARKS.md. Usage: node make-table.mjs results.jsonl machine.txt
import fs from "node:fs";
const [results, machine] = process.argv.slice(2);
const runs = fs.readFileSync(results, "utf8").split("\n").filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
const f = (v, d = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
// The admins' statusChanged (issue 15): off (they opt out, as the panels do) or listening.
const sc = (r) =>
  r.status_changed === "listening"
    ? `listening (${r.status_changed_events}, ${(r.status_changed_bytes / 1048576).toFixed(1)})`
    : "off";
const mb = (kb) => (kb ? (kb / 1024).toFixed(0) : "–");
console.log(fs.readFileSync(machine, "utf8").trim().split("\n").map((l) => `- ${l}`).join("\n"));
console.log("");
console.log("| run | orders/s | placed | admin p50 / p99 / p99.9 / max ms | owner p50 / p99 / p99.9 / max ms | POST p50 / p99 ms | lost | dup | misdel. | alerts ok | server CPU | µs/order | RSS MB (sockets → end) | loadgen CPU | loadgen lag p99 / max ms | load avg | held | statusChanged (events, MB) |");
console.log("|---|---:|---:|---|---|---|---:|---:|---:|:-:|---:|---:|---|---:|---|---|:-:|---|");
for (const r of runs) {
  if (r.setup_failed) {
    console.log(`| ${r.label} | ${r.rate} | setup failed: ${r.setup_failed} ||||||||||||||| no |`);
    continue;
  }
  const alertsOk = r.alerts_missing === 0 && r.alerts_duplicated === 0 ? "yes" : `missing ${r.alerts_missing}, dup ${r.alerts_duplicated}`;
  const send = r.send_s || r.phase_s;
  console.log(`| ${r.label} | ${r.rate} | ${f(100 * r.placed_ratio)}% | ${f(r.admin_p50_ms)} / ${f(r.admin_p99_ms)} / ${f(r.admin_p999_ms)} / ${f(r.admin_max_ms)} | ${f(r.customer_p50_ms)} / ${f(r.customer_p99_ms)} / ${f(r.customer_p999_ms)} / ${f(r.customer_max_ms)} | ${f(r.post_p50_ms)} / ${f(r.post_p99_ms)} | ${r.lost} | ${r.duplicates + r.alerts_duplicated} | ${r.misdelivered} | ${alertsOk} | ${f(r.server_cpu_pct, 0)}% | ${f(r.server_cpu_us_per_order, 0)} | ${mb(r.rss_before_kb)} → ${mb(r.rss_after_kb)} | ${f(100 * r.loadgen_cpu_send_s / send, 0)}% | ${f(r.schedule_lag_p99_ms)} / ${f(r.schedule_lag_max_ms)} | ${r.load_before.split(" ")[0]} | ${r.held ? "yes" : "no"} | ${sc(r)} |`);
}
