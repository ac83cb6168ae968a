// /metrics (docs/OPERATIONS.md, "Metrics"): every family an operator watches is there and
// moves when its event happens — HTTP requests by route and status with their latency,
// connections by transport, sockets, events by name, broadcasts and messages delivered,
// disconnects by reason and slow consumers, the change stream's lag and replays, the
// store's commits (latency and batch sizes), sign-in failures and rate-limit refusals,
// the process's memory and descriptors. Parsed as Prometheus text.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  api,
  availableItemIds,
  call,
  connectReady,
  loginDemo,
  placeOrder,
  registerCustomer,
  startBrigade,
  within,
} from "../live/lib/harness.mjs";

const MAX_SEND_QUEUE = 65536; // kMinSendQueueBytes: the slow consumer below crosses it

let server;
let admin;
const clients = [];
before(async () => {
  server = await startBrigade({ args: ["--max-send-queue", String(MAX_SEND_QUEUE)] });
  admin = await loginDemo(server, "admin");
});
after(async () => {
  for (const c of clients) c.close();
  await server?.dispose();
});

// {"name{labels}": value}, and the # TYPE of each family.
function parse(text) {
  const samples = new Map();
  const types = new Map();
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      types.set(name, type);
    } else if (line && !line.startsWith("#")) {
      const at = line.lastIndexOf(" ");
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { samples, types };
}

async function scrape() {
  const res = await api(server, "GET", "/metrics", { token: admin.token });
  assert.equal(res.status, 200);
  return parse(res.text);
}

// The value of a series (labels in the order the serializer writes them: by name), 0 if absent.
const value = (m, series) => m.samples.get(series) ?? 0;

// Scrapes until `ok(metrics)` holds: a counter read at scrape time may trail the event a moment.
async function until(ok, what, ms = 10000) {
  return within(
    ms,
    (async () => {
      for (;;) {
        const m = await scrape();
        if (ok(m)) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
    what,
  );
}

test("/metrics needs an admin or the metrics token", async () => {
  assert.equal((await api(server, "GET", "/metrics")).status, 401);
  const customer = await registerCustomer(server, "m");
  assert.equal((await api(server, "GET", "/metrics", { token: customer.token })).status, 401);
});

test("HTTP requests by route and status, with a latency histogram", async () => {
  const before = await scrape();
  await api(server, "GET", "/api/menu");
  await api(server, "GET", "/api/menu");
  await api(server, "GET", "/api/orders/999999", { token: admin.token });
  await api(server, "GET", "/api/nowhere");
  const m = await until(
    (m) => value(m, 'brigade_http_requests_total{route="GET /api/menu",status="200"}') >= value(before, 'brigade_http_requests_total{route="GET /api/menu",status="200"}') + 2,
    "menu requests counted",
  );
  assert.equal(m.types.get("brigade_http_requests_total"), "counter");
  assert.equal(m.types.get("brigade_http_request_duration_seconds"), "histogram");
  assert.ok(value(m, 'brigade_http_requests_total{route="GET /api/orders/:id",status="404"}') >= 1, "a route's pattern, not its path");
  assert.ok(value(m, 'brigade_http_requests_total{route="/api/",status="404"}') >= 1, "an unknown API path counts under the mount");
  assert.ok(
    value(m, 'brigade_http_request_duration_seconds_count{route="GET /api/menu"}') >= value(before, 'brigade_http_request_duration_seconds_count{route="GET /api/menu"}') + 2,
  );
  assert.ok(value(m, 'brigade_http_request_duration_seconds_bucket{route="GET /api/menu",le="+Inf"}') >= 2);
  // No series names a raw path with an id in it.
  assert.ok(![...m.samples.keys()].some((k) => k.includes("/api/orders/999999")));
});

test("orders: store commits and batch sizes, events by name, broadcasts and deliveries, connections, lag", async () => {
  const customer = await registerCustomer(server, "orders");
  const [item] = await availableItemIds(server);
  const watcher = await connectReady(server, { token: admin.token }, { label: "admin ws" });
  const poller = await connectReady(server, { token: admin.token }, { label: "admin polling", transports: ["polling"] });
  clients.push(watcher, poller);
  const before = await scrape();
  assert.ok(value(before, 'brigade_connections{transport="websocket"}') >= 1);
  assert.ok(value(before, 'brigade_connections{transport="polling"}') >= 1);
  assert.ok(value(before, 'brigade_sockets{namespace="/"}') >= 2);

  for (let i = 0; i < 5; i++) await placeOrder(server, customer.token, item);
  await watcher.until(() => watcher.named("order:changed").length >= 5, 5000, "the orders live");
  const m = await until(
    (m) => value(m, 'brigade_events_emitted_total{event="order:changed"}') >= value(before, 'brigade_events_emitted_total{event="order:changed"}') + 5,
    "order events counted",
  );
  const grew = (series, by = 1) => assert.ok(value(m, series) >= value(before, series) + by, `${series}: ${value(before, series)} -> ${value(m, series)}`);
  grew("brigade_orders_created_total", 5);
  grew("brigade_store_writes_total", 5);
  grew("brigade_store_batches_total");
  grew("brigade_store_commit_seconds_count");
  grew("brigade_store_batch_size_count");
  assert.ok(value(m, "brigade_store_commit_seconds_sum") > 0);
  assert.equal(m.types.get("brigade_store_commit_seconds"), "histogram");
  grew("brigade_broadcasts_total", 5);
  grew("brigade_messages_delivered_total", 10); // two admin sockets, five orders
  assert.ok(m.samples.has("brigade_change_stream_lag"));
  assert.ok(value(m, "brigade_change_stream_lag") >= 0);
  assert.ok(value(m, "brigade_change_head_seq") >= 5);
});

test("disconnects by reason, replays, slow consumers", async () => {
  const before = await scrape();
  // A socket that leaves, and one that comes back with an offset (a replay).
  const leaving = await connectReady(server, { token: admin.token }, { label: "leaving" });
  const ready = leaving.named("ready")[0].args[0];
  leaving.close();
  const back = await connectReady(server, { token: admin.token, offset: ready.last_seq, epoch: ready.epoch }, { label: "back" });
  clients.push(back);

  // A slow consumer: a long-polling session that never polls again while menu changes
  // (about 2 KB each: descriptions near their 2,000-byte limit) are broadcast past its send queue.
  const open = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
  const sid = JSON.parse((await open.text()).slice(1)).sid;
  const connect = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: "POST",
    headers: { "content-type": "text/plain;charset=UTF-8" },
    body: `40${JSON.stringify({ token: admin.token, statusChanged: false })}`,
  });
  assert.equal(connect.status, 200);
  const [item] = await availableItemIds(server);
  const description = "d".repeat(1900);
  for (let i = 0; i < Math.ceil((2 * MAX_SEND_QUEUE) / description.length); i++) {
    await call(server, "PATCH", `/api/menu/items/${item}`, { token: admin.token, body: { description: `${description}${i}` } });
  }
  const m = await until((m) => value(m, "brigade_slow_consumer_disconnects_total") > value(before, "brigade_slow_consumer_disconnects_total"), "the slow consumer cut");
  assert.ok(value(m, 'brigade_disconnects_total{reason="send queue overflow"}') >= 1, [...m.samples.keys()].filter((k) => k.startsWith("brigade_disconnects")).join(", "));
  assert.ok(value(m, 'brigade_disconnects_total{reason="transport close"}') > value(before, 'brigade_disconnects_total{reason="transport close"}'));
  assert.ok(value(m, "brigade_replays_total") > value(before, "brigade_replays_total"));
  assert.ok(value(m, 'brigade_events_emitted_total{event="menu:changed"}') > value(before, 'brigade_events_emitted_total{event="menu:changed"}'));
});

test("sign-in failures and rate-limit refusals; the process's memory and descriptors", async () => {
  const before = await scrape();
  const email = `nobody-${Date.now()}@example.com`;
  let limited = 0;
  for (let i = 0; i < 12 && !limited; i++) {
    const res = await api(server, "POST", "/api/auth/login", { body: { email, password: "wrong-password" } });
    if (res.status === 429) limited++;
    else assert.equal(res.status, 401);
  }
  assert.equal(limited, 1, "the login limit answered 429");
  const m = await until((m) => value(m, 'brigade_rate_limited_total{limit="login"}') > value(before, 'brigade_rate_limited_total{limit="login"}'), "the refusal counted");
  assert.ok(value(m, "brigade_login_failures_total") >= value(before, "brigade_login_failures_total") + 1);
  assert.ok(value(m, "process_resident_memory_bytes") > 1e6);
  assert.ok(value(m, "process_open_fds") > 3);
  assert.equal(value(m, "brigade_database_up"), 1);
});

test("--max-send-queue below kMinSendQueueBytes (64 KiB) is refused at start", async () => {
  const { spawnSync } = await import("node:child_process");
  const { brigadeBinary } = await import("../live/lib/harness.mjs");
  const res = spawnSync(brigadeBinary(), ["--listen", "127.0.0.1:0", "--max-send-queue", String(MAX_SEND_QUEUE - 1)], {
    encoding: "utf8",
    timeout: 15000,
  });
  assert.notEqual(res.status, 0);
  assert.match(res.stderr + res.stdout, /--max-send-queue/);
});
