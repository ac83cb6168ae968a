// Gap-free recovery with auth.offset: clients drop and reconnect in the middle of a
// burst of 1,000 writes (and across a kill -9 and restart of the server) and must
// end with exactly the sequence of seqs they may see — in order, no duplicate, no
// gap — with `ready` after the replayed part of each connection.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  api,
  availableItemIds,
  changesInDb,
  connectReady,
  headSeqInDb,
  isBarrier,
  loginDemo,
  menuBarrier,
  placeOrder,
  pool,
  registerCustomer,
  startBrigade,
  visibleTo,
  within,
} from "./lib/harness.mjs";

const BURST = 1000;

// 1,000 writes, 6 in flight: menu price updates (everyone sees them), orders placed by
// two customers, and the admin accepting placed orders. With `retry` (a function
// resolving once the server is up), requests that fail because the server is down are
// retried when it is back (a request cut by the crash may have committed or not: the
// expected sequence is read from the database).
async function burst(getServer, people, items, { retry = null } = {}) {
  const placed = [];
  const send = async (method, path, token, body) => {
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        const res = await api(getServer(), method, path, { token, body, timeoutMs: 5000 });
        if (res.status >= 200 && res.status < 300) return res.body;
        if (!retry) throw new Error(`${method} ${path} -> ${res.status} ${res.text}`);
        return null; // e.g. 409 for a move that had committed before the crash
      } catch (error) {
        if (!retry || Date.now() > deadline) throw error;
        await within(Math.max(0, deadline - Date.now()), retry(), "the server to be back");
      }
    }
  };
  await pool(BURST, 6, async (i) => {
    switch (i % 4) {
      case 0:
      case 3: {
        const pending = i % 4 === 3 ? placed.shift() : undefined;
        if (pending !== undefined) {
          await send("POST", `/api/orders/${pending}/status`, people.admin.token, { status: "accepted" });
        } else {
          const item = items[i % items.length];
          await send("PATCH", `/api/menu/items/${item}`, people.admin.token, { price_cents: 100 + i });
        }
        break;
      }
      default: {
        const who = i % 4 === 1 ? people.c1 : people.c2;
        const order = await send("POST", "/api/orders", who.token, {
          items: [{ item_id: items[i % items.length], quantity: 1 }],
          delivery: { address: `${i} Burst Avenue` },
        });
        if (order) placed.push(order.id);
      }
    }
  });
}

// Everything a recording client went through must add up to exactly `expected`.
function assertGapFree(client, expected, startSeq) {
  const got = client.streamSeqs();
  const dups = got.filter((s, i) => got.indexOf(s) !== i);
  assert.deepEqual(dups, [], `${client.label}: duplicated seqs`);
  const missing = expected.filter((s) => !got.includes(s));
  assert.deepEqual(missing, [], `${client.label}: seqs never received`);
  const extra = got.filter((s) => !expected.includes(s));
  assert.deepEqual(extra, [], `${client.label}: seqs it may not see`);
  assert.deepEqual(got, expected, `${client.label}: order of the seqs`);
  assert.ok(got.every((s) => s > startSeq));
  // Per connection: one ready, with everything replayed before it and live after it.
  for (let conn = 1; conn <= client.connections; ++conn) {
    const events = client.events.filter((e) => e.conn === conn);
    const readies = events.filter((e) => e.name === "ready");
    assert.equal(readies.length, 1, `${client.label}: ready on connection ${conn}`);
    const readyAt = events.indexOf(readies[0]);
    const { last_seq: lastSeq } = readies[0].args[0];
    assert.equal(readies[0].args[1], `${lastSeq}.1`, `${client.label}: offset argument of ready`);
    events.forEach((e, i) => {
      if (!e.args[0] || typeof e.args[0].seq !== "number") return;
      if (i < readyAt) assert.ok(e.args[0].seq <= lastSeq, `${client.label}#${conn}: seq ${e.args[0].seq} before ready ${lastSeq}`);
      else assert.ok(e.args[0].seq > lastSeq, `${client.label}#${conn}: seq ${e.args[0].seq} after ready ${lastSeq}`);
    });
    assert.equal(client.named("resync", conn).length, 0, `${client.label}: resync on connection ${conn}`);
  }
}

// Exactly one alert per new order, in order, whatever the moment of the drops: an
// admin dropped between a new order's order:changed ("S") and its alert ("S.1") gets
// the alert when it reconnects with offset "S".
function assertAlerts(client, changes) {
  const inserts = changes.filter((c) => c.collection === "orders" && c.op === "insert");
  const alerts = client.named("alert").map((e) => e.args[0].order_id);
  assert.deepEqual(alerts, inserts.map((c) => c.record_id), `${client.label}: one alert per new order, in order`);
}

describe("recovery with auth.offset", () => {
  const servers = [];
  const clients = [];
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.dispose();
  });

  async function setup(server) {
    const people = {
      admin: await loginDemo(server, "admin"),
      c1: await registerCustomer(server, "c1"),
      c2: await registerCustomer(server, "c2"),
    };
    const items = await availableItemIds(server);
    const admin = await connectReady(server, { token: people.admin.token }, { label: "admin" });
    const c1 = await connectReady(server, { token: people.c1.token }, { label: "c1" });
    const admin2 = await connectReady(server, { token: people.admin.token }, { label: "admin (new sockets)" });
    clients.push(admin, c1, admin2);
    const first = admin.named("ready")[0].args[0];
    assert.equal(typeof first.epoch, "string");
    assert.ok(first.epoch.length > 0);
    return { people, items, admin, c1, admin2, startSeq: first.last_seq, epoch: first.epoch };
  }

  async function verify(server, ctx, list) {
    const head = await headSeqInDb(server.dbPath);
    const changes = await changesInDb(server.dbPath, ctx.startSeq);
    assert.ok(changes.length >= BURST * 0.9, `the burst wrote ${changes.length} changes`);
    for (const [client, user] of list) {
      const expected = visibleTo(changes, user).map((c) => c.seq);
      await client.untilSeq(expected[expected.length - 1], 20000);
      assert.ok(expected.length > 0 && expected[expected.length - 1] <= head);
    }
    // A stray duplicate would come before a later change (the barrier); the barrier's
    // own events are then left out of the record.
    await menuBarrier(server, ctx.people.admin.token, list.map(([client]) => client), 20000);
    for (const [client] of list) client.events = client.events.filter((e) => !isBarrier(e));
    for (const [client, user] of list) {
      assertGapFree(client, visibleTo(changes, user).map((c) => c.seq), ctx.startSeq);
    }
    return changes;
  }

  test("drops in the middle of a burst of 1,000 writes, reconnecting with auth.offset", async () => {
    const server = await startBrigade();
    servers.push(server);
    const ctx = await setup(server);
    const { people, admin, c1, admin2, epoch } = ctx;
    let replayed = 0;
    let live = 0;

    // Drops after `n` stream events, stays away while the burst writes a few more
    // changes, comes back with the last offset it saw (same socket, or a brand-new one).
    const writing = burst(() => server, people, ctx.items);
    let burstOver = false;
    const over = writing.finally(() => {
      burstOver = true;
    });
    const headSeq = async () => (await api(server, "GET", "/healthz")).body.last_seq;
    const dropper = async (client, token, thresholds, fresh) => {
      for (const n of thresholds) {
        // Dropped synchronously, from the event handler, so no later event slips in.
        await client.until(
          () => client.stream().length >= n,
          30000,
          `${n} events`,
          () => client.socket.disconnect(),
        );
        const offset = client.lastOffset();
        // Away until 5 more changes were committed (or the burst is over).
        const away = (await headSeq()) + 5;
        while (!burstOver && (await headSeq()) < away);
        const auth = { token, offset, epoch };
        if (fresh) await client.replaceSocket(server, auth);
        else await client.reconnect(auth);
        const conn = client.connections;
        await client.ready(conn);
        const events = client.events.filter((e) => e.conn === conn);
        const readyAt = events.findIndex((e) => e.name === "ready");
        const replayedHere = events.slice(0, readyAt).filter((e) => e.args[0]?.seq !== undefined).length;
        replayed += replayedHere;
        // Is the burst still going? Wait for an event live on this connection (or its end).
        await Promise.race([over, client.until(() => client.stream(conn).length > replayedHere, 30000, "a live event")]);
        live += client.stream(conn).length - replayedHere;
      }
    };
    await Promise.all([
      writing,
      dropper(admin, people.admin.token, [150, 450], false),
      dropper(c1, people.c1.token, [100, 300], false),
      dropper(admin2, people.admin.token, [250, 600], true),
    ]);
    assert.ok(replayed > 0, "no reconnection replayed anything: the drops missed the burst");
    assert.ok(live > 0, "no reconnection received live events: the drops missed the burst");

    const changes = await verify(server, ctx, [
      [admin, { role: "admin" }],
      [admin2, { role: "admin" }],
      [c1, { role: "customer", id: people.c1.user.id }],
    ]);
    assertAlerts(admin, changes);
    assertAlerts(admin2, changes);
    assert.equal(c1.named("alert").length, 0);
    assert.equal(admin.connections, 3);
    assert.equal(admin2.connections, 3);
    assert.equal(c1.connections, 3);
    await server.dispose();
  });

  test("the same across kill -9 and a restart on the same data dir and port", async () => {
    let server = await startBrigade();
    servers.push(server);
    const ctx = await setup(server);
    const { people, admin, c1, admin2, epoch } = ctx;

    // Resolves once the server is up (again): failed requests of the burst wait for it.
    let up = Promise.resolve();
    let markUp = () => {};
    const crash = async () => {
      await admin.until(
        () => admin.stream().length >= 300,
        30000,
        "300 events before the crash",
        () => {
          up = new Promise((resolve) => {
            markUp = resolve;
          });
          server.stop("SIGKILL"); // the signal is sent synchronously
        },
      );
      await server.exited;
      for (const c of [admin, c1, admin2]) {
        await c.until(() => c.disconnects.length > 0, 5000, "the disconnection");
      }
      const seenBefore = admin.stream().length;
      server = await server.restart();
      servers.push(server);
      markUp();
      for (const [c, token] of [
        [admin, people.admin.token],
        [c1, people.c1.token],
        [admin2, people.admin.token],
      ]) {
        const auth = { token, offset: c.lastOffset(), epoch };
        if (c === admin2) await c.replaceSocket(server, auth);
        else await c.reconnect(auth);
        const ready = await c.ready(2);
        assert.equal(ready.epoch, epoch, `${c.label}: the epoch survives a restart`);
      }
      return seenBefore;
    };
    const [, seenBefore] = await Promise.all([burst(() => server, people, ctx.items, { retry: () => up }), crash()]);
    assert.ok(seenBefore < BURST * 0.9, "the crash came after the burst");
    const changes = await verify(server, ctx, [
      [admin, { role: "admin" }],
      [admin2, { role: "admin" }],
      [c1, { role: "customer", id: people.c1.user.id }],
    ]);
    assert.ok(
      admin.stream(2).length > 0 && changes.length > seenBefore,
      "changes were written after the restart",
    );
    assertAlerts(admin, changes);
    assertAlerts(admin2, changes);
    await server.dispose();
  });

  test(
    "an admin dropped between a new order's order:changed and its alert gets the alert on recovery",
    async () => {
      const server = await startBrigade();
      servers.push(server);
      const admin = await loginDemo(server, "admin");
      const customer = await registerCustomer(server, "c");
      const [item] = await availableItemIds(server);
      const client = await connectReady(server, { token: admin.token }, { label: "admin" });
      clients.push(client);
      const { epoch } = client.named("ready")[0].args[0];
      const dropped = client.until(
        () => client.named("order:changed").length === 1,
        5000,
        "the new order",
        () => client.socket.disconnect(),
      );
      const order = await placeOrder(server, customer.token, item);
      await dropped;
      const seq = client.named("order:changed")[0].args[0].seq;
      assert.equal(client.lastOffset(), String(seq));
      await client.reconnect({ token: admin.token, offset: seq, epoch });
      await client.ready(2);
      await menuBarrier(server, admin.token, [client]); // a duplicate alert would come before it
      assert.deepEqual(
        client.named("alert").map((e) => e.args[0].order_id),
        [order.id],
        "one alert for the new order",
      );
      await server.dispose();
    },
  );
});
