// deploy/prometheus-alerts.yml: Prometheus accepts it, and each alert fires on the series
// that should raise it and not on a healthy node (deploy/prometheus-alerts.test.yml, run by
// promtool from Debian's prometheus package). The metric names it uses are the ones
// /metrics exports (tests/api/metrics.test.mjs moves each).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { repoRoot } from "../lib/server.mjs";

const deploy = path.join(repoRoot, "deploy");
const promtool = (...args) => spawnSync("promtool", args, { cwd: deploy, encoding: "utf8", timeout: 60000 });

test("promtool accepts the rules", () => {
  const r = promtool("check", "rules", "prometheus-alerts.yml");
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 6 rules found/);
});

test("each alert fires when it should and only then (promtool test rules)", () => {
  const r = promtool("test", "rules", "prometheus-alerts.test.yml");
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the rules name only metrics Brigade exports", () => {
  const rules = readFileSync(path.join(deploy, "prometheus-alerts.yml"), "utf8");
  const used = new Set([...rules.matchAll(/\b(brigade_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]));
  const exported = readFileSync(path.join(repoRoot, "docs/OPERATIONS.md"), "utf8");
  for (const name of used) assert.ok(exported.includes(`\`${name}\``), `${name} is in docs/OPERATIONS.md's table`);
});
