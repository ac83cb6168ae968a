// --log-format json (docs/OPERATIONS.md, "Logs"): every line on standard error is one JSON
// object with time, level and msg; each answer carries an X-Request-Id that the request's
// log line names; a trusted proxy's id is kept when plain, replaced otherwise; a stranger's
// is never taken.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startBrigade, within } from "../lib/server.mjs";

let plain;
let behindProxy;
before(async () => {
  [plain, behindProxy] = await Promise.all([
    startBrigade({ args: ["--log-format", "json"], logLevel: "debug" }),
    startBrigade({ args: ["--log-format", "json", "--trusted-proxy", "127.0.0.1"], logLevel: "debug" }),
  ]);
});
after(async () => {
  await Promise.all([plain?.dispose(), behindProxy?.dispose()]);
});

const logLines = (server) =>
  server
    .output()
    .split("\n")
    .filter((l) => l.startsWith('{"time"'))
    .map((l) => JSON.parse(l));

async function requestLine(server, id) {
  return within(
    5000,
    (async () => {
      for (;;) {
        const line = logLines(server).find((l) => l.msg === "request" && l.request_id === id);
        if (line) return line;
        await new Promise((r) => setTimeout(r, 20));
      }
    })(),
    `the log line of request ${id}`,
  );
}

test("every log line is a JSON object with time, level and msg", async () => {
  await fetch(`${plain.url}/healthz`);
  const lines = logLines(plain);
  assert.ok(lines.length > 3, "migrations and requests are logged");
  for (const l of lines) {
    assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(["trace", "debug", "info", "warning", "error", "critical"].includes(l.level), l.level);
    assert.equal(typeof l.msg, "string");
  }
  // Nothing but JSON on standard error: every non-empty line that is not one of the
  // server's stdout lines (listening, demo accounts) parses.
  for (const raw of plain.output().split("\n").filter((l) => l.trim())) {
    if (raw.startsWith('{"time"') || raw.startsWith('{"listening"') || raw.startsWith('{"demo_accounts"')) continue;
    assert.ok(!raw.startsWith("["), `a text log line: ${raw}`);
  }
});

test("the answer's X-Request-Id is the id in the request's log line (route pattern, status, time)", async () => {
  const res = await fetch(`${plain.url}/api/orders/12345`);
  const id = res.headers.get("x-request-id");
  assert.match(id, /^[A-Za-z0-9_-]{12}$/);
  const line = await requestLine(plain, id);
  assert.equal(line.route, "GET /api/orders/:id");
  assert.equal(line.status, 401);
  assert.equal(typeof line.seconds, "number");
  const other = (await fetch(`${plain.url}/nowhere/at/all`)).headers.get("x-request-id");
  assert.ok(other && other !== id, "each request its own id, 404s too");
});

test("a stranger's X-Request-Id is not taken; a trusted proxy's is, when plain and short", async () => {
  const stranger = await fetch(`${plain.url}/healthz`, { headers: { "x-request-id": "from-a-stranger" } });
  assert.notEqual(stranger.headers.get("x-request-id"), "from-a-stranger");
  const kept = await fetch(`${behindProxy.url}/healthz`, { headers: { "x-request-id": "proxy-id_1.2" } });
  assert.equal(kept.headers.get("x-request-id"), "proxy-id_1.2");
  await requestLine(behindProxy, "proxy-id_1.2");
  const tooLong = "a".repeat(65); // kMaxRequestIdLength + 1
  const replaced = await fetch(`${behindProxy.url}/healthz`, { headers: { "x-request-id": tooLong } });
  assert.notEqual(replaced.headers.get("x-request-id"), tooLong);
  const longest = "b".repeat(64);
  assert.equal((await fetch(`${behindProxy.url}/healthz`, { headers: { "x-request-id": longest } })).headers.get("x-request-id"), longest);
  const odd = await fetch(`${behindProxy.url}/healthz`, { headers: { "x-request-id": 'x"},{"forged":1' } });
  assert.match(odd.headers.get("x-request-id"), /^[A-Za-z0-9_-]{12}$/);
});
