// Turns a soak's JSON lines (run-soak.sh's standard output) into the window table
// and verdict list of docs/BENCHMARKS.md. Usage: node make-table.mjs soak.jsonl
import fs from "node:fs";
const lines = fs.readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
const windows = lines.filter((l) => l.window !== undefined);
const r = lines.find((l) => l.label !== undefined);
const f = (v, d = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
console.log("| window (end, s) | placed | answered | admin p50 / p99 / max ms | owner p99 ms | loadgen lag max ms | reconnects (resumed) | replayed | locations ok / limited | RSS KiB | fds | lost / dup so far | load 1 min |");
console.log("|---|---:|---:|---|---:|---:|---|---:|---|---:|---:|---|---:|");
for (const w of windows) {
  console.log(`| ${w.window} (${f(w.t_s, 0)}) | ${w.placed} | ${w.answered} | ${f(w.admin_p50_ms)} / ${f(w.admin_p99_ms)} / ${f(w.admin_max_ms)} | ${f(w.customer_p99_ms)} | ${f(w.schedule_lag_max_ms)} | ${w.reconnects} (${w.resumed}) | ${w.replayed} | ${w.locations_ok} / ${w.locations_rate_limited} | ${w.rss_kb} | ${w.fds} | ${w.lost_so_far} / ${w.duplicated_so_far} | ${w.load1} |`);
}
if (r) {
  console.log("");
  console.log(`- RSS ${r.rss_warmup_kb} KiB after the warm-up → ${r.rss_end_kb} KiB at the end: ${f(r.rss_drift_pct, 2)}% → rss_drift_ok **${r.rss_drift_ok}**`);
  console.log(`- descriptors ${r.fds_baseline} after the setup → ${r.fds_end} at the end → fds_ok **${r.fds_ok}**`);
  console.log(`- p99 medians of the first / last ${r.p99_windows_compared} windows after the warm-up: ${f(r.p99_first_ms)} / ${f(r.p99_last_ms)} ms (limit ×${r.p99_growth_limit} or +${r.p99_slack_ms} ms) → p99_stable **${r.p99_stable}**`);
  console.log(`- ${r.placed} orders placed, ${r.post_201} answered 201; lost ${r.lost}, alerts missing ${r.alerts_missing}, duplicated ${r.duplicates + r.alerts_duplicated}, misdelivered ${r.misdelivered}, dropped ${r.dropped}; ${r.reconnects} reconnects (${r.reconnects_ready} resumed, ${r.replayed} events replayed, ${r.replayed_inserts} orders delivered by a replay, ${r.replay_duplicates} replay duplicates, ${r.resyncs} resyncs); ${r.locations_sent} rider locations, ${r.locations_rate_limited} rate-limited → nothing_lost **${r.nothing_lost}**`);
  console.log(`- whole run: admin p50 / p99 / p99.9 / max ${f(r.admin_p50_ms)} / ${f(r.admin_p99_ms)} / ${f(r.admin_p999_ms)} / ${f(r.admin_max_ms)} ms; server CPU ${f(r.server_cpu_pct, 0)}% of one core; load average ${r.load_before} → ${r.load_after}`);
}
