// What a connection may cost the server (issue 9): a replay from offset 0 reads only
// what the caller may see, a replay longer than --max-replay-events is replaced by
// resync {reason: "too_far_behind"}, and a user opening more than --connect-rate
// connections a minute is refused with CONNECT_ERROR "rate_limited".
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  assignRider,
  availableItemIds,
  call,
  changesInDb,
  connect,
  connectReady,
  connectRefused,
  createUser,
  headSeqInDb,
  login,
  loginDemo,
  moveOrder,
  placeOrder,
  pool,
  registerCustomer,
  sqlite,
  startBrigade,
  visibleTo,
} from "./lib/harness.mjs";

const names = (client) => client.events.map((e) => e.name);

// The events of a connection before its `ready`, and that ready's payload.
function beforeReady(client, conn = 1) {
  const events = client.events.filter((e) => e.conn === conn);
  const at = events.findIndex((e) => e.name === "ready");
  assert.ok(at >= 0, `${client.label}: no ready`);
  return { events: events.slice(0, at), ready: events[at].args[0] };
}

describe("replay from offset 0 among many other customers' orders", () => {
  let server;
  let people;
  let items;
  const clients = [];

  before(async () => {
    server = await startBrigade();
    const admin = await loginDemo(server, "admin");
    people = {
      admin,
      me: await registerCustomer(server, "me"),
      others: [await registerCustomer(server, "o1"), await registerCustomer(server, "o2")],
      r1: await createUser(server, admin.token, "rider", "r1"),
      r2: await createUser(server, admin.token, "rider", "r2"),
    };
    items = await availableItemIds(server);
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  test("a customer gets exactly its own order changes and the menu's, in order, then ready", async () => {
    const { admin, me, others, r1, r2 } = people;
    const mine = [];
    // Other customers' orders through the API, with the customer's few among them, and a
    // menu change in the middle.
    await pool(120, 6, async (i) => {
      const who = others[i % 2];
      await placeOrder(server, who.token, items[i % items.length]);
      if (i % 40 === 7) mine.push(await placeOrder(server, me.token, items[0]));
      if (i === 60) {
        await call(server, "PATCH", `/api/menu/items/${items[1]}`, {
          token: admin.token,
          body: { price_cents: 777 },
        });
      }
    });
    assert.equal(mine.length, 3);
    // Thousands more written by another program (the sqlite3 shell).
    const ids = others.map((o) => o.user.id);
    await sqlite(
      server.dbPath,
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
       INSERT INTO orders(customer_id, subtotal_cents, delivery_fee_cents, total_cents, delivery_address)
       SELECT CASE WHEN i % 2 = 0 THEN ${ids[0]} ELSE ${ids[1]} END, 100, 0, 100, 'bulk' FROM n;`,
    );
    // The customer's order moves, and changes hands between two riders.
    await moveOrder(server, admin.token, mine[0].id, "accepted");
    await assignRider(server, admin.token, mine[0].id, r1.user.id);
    await assignRider(server, admin.token, mine[0].id, r2.user.id);
    await moveOrder(server, admin.token, mine[1].id, "rejected", { reason: "closed" });

    const head = await headSeqInDb(server.dbPath);
    const changes = await changesInDb(server.dbPath, 0);
    assert.ok(changes.length > 3000, `${changes.length} changes`);
    for (const [label, token, who] of [
      ["customer", me.token, { role: "customer", id: me.user.id }],
      ["rider r1", r1.token, { role: "rider", id: r1.user.id }],
    ]) {
      const expected = visibleTo(changes, who).map((c) => c.seq);
      const client = await connectReady(server, { token, offset: 0 }, { label });
      clients.push(client);
      const { events, ready } = beforeReady(client);
      const seqs = events.map((e) => e.args[0]?.seq);
      assert.deepEqual(seqs, expected, `${label}: the replayed seqs`);
      assert.equal(new Set(seqs).size, seqs.length, `${label}: no duplicates`);
      assert.ok(
        events.every((e) => e.name === "order:changed" || e.name === "menu:changed"),
        `${label}: only stream events before ready: ${[...new Set(events.map((e) => e.name))]}`,
      );
      assert.equal(ready.last_seq, head, `${label}: ready at the head`);
      if (label === "customer") {
        const orderIds = new Set(events.filter((e) => e.name === "order:changed").map((e) => e.args[0].order.id));
        assert.deepEqual([...orderIds].sort(), mine.map((o) => o.id).sort());
        assert.ok(events.some((e) => e.name === "menu:changed"), "the menu change is replayed");
      } else {
        // r1: the assignment and the change that took the order away from it.
        const riders = events.filter((e) => e.name === "order:changed").map((e) => e.args[0].order.rider_id);
        assert.deepEqual(riders, [r1.user.id, r2.user.id]);
      }
    }
  });
});

describe("too_far_behind", () => {
  const BOUND = 20;
  let server;
  let admin;
  let customer;
  let other;
  let items;
  let epoch;
  let price = 1000;
  const clients = [];

  before(async () => {
    server = await startBrigade({ args: ["--max-replay-events", String(BOUND)] });
    admin = await loginDemo(server, "admin");
    customer = await registerCustomer(server, "c");
    other = await registerCustomer(server, "other");
    items = await availableItemIds(server);
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  const touchMenu = () =>
    call(server, "PATCH", `/api/menu/items/${items[0]}`, { token: admin.token, body: { price_cents: ++price } });

  async function offsetNow() {
    const watcher = await connectReady(server, { token: admin.token }, { label: "watcher" });
    clients.push(watcher);
    const ready = watcher.named("ready")[0].args[0];
    epoch = ready.epoch;
    watcher.close();
    return ready.last_seq;
  }

  test("a replay of exactly the bound is sent in full", async () => {
    const offset = await offsetNow();
    for (let i = 0; i < BOUND; ++i) await touchMenu();
    const client = await connectReady(server, { token: customer.token, offset, epoch }, { label: "at the bound" });
    clients.push(client);
    const { events } = beforeReady(client);
    assert.equal(events.length, BOUND);
    assert.ok(events.every((e) => e.name === "menu:changed"));
  });

  test("one event more gets resync too_far_behind instead, then ready and live events", async () => {
    const offset = await offsetNow();
    for (let i = 0; i < BOUND + 1; ++i) await touchMenu();
    const client = await connectReady(server, { token: customer.token, offset, epoch }, { label: "past the bound" });
    clients.push(client);
    const ready = await client.ready(1);
    assert.deepEqual(names(client), ["resync", "ready"], "nothing replayed, only the resync");
    assert.deepEqual(client.events[0].args[0], { reason: "too_far_behind" });
    assert.equal(ready.last_seq, await headSeqInDb(server.dbPath));
    const live = await touchMenu();
    await client.until(() => client.named("menu:changed").length === 1, 5000, "a live event");
    assert.equal(client.named("menu:changed")[0].args[0].item.price_cents, live.price_cents);
  });

  test("the bound counts what the caller may see, not the changes in between", async () => {
    const offset = await offsetNow();
    await pool(3 * BOUND, 4, () => placeOrder(server, other.token, items[0]));
    const mine = await placeOrder(server, customer.token, items[0]);
    const client = await connectReady(server, { token: customer.token, offset, epoch }, { label: "few of many" });
    clients.push(client);
    const { events } = beforeReady(client);
    assert.deepEqual(
      events.map((e) => [e.name, e.args[0].order?.id]),
      [["order:changed", mine.id]],
    );
    // An admin sees all of them (an order and an alert each): too far behind.
    const adminClient = await connectReady(server, { token: admin.token, offset, epoch }, { label: "admin" });
    clients.push(adminClient);
    await adminClient.ready(1);
    assert.deepEqual(names(adminClient), ["resync", "ready"]);
    assert.equal(adminClient.events[0].args[0].reason, "too_far_behind");
  });
});

describe("connect rate limit", () => {
  const LIMIT = 3;
  let server;
  const clients = [];

  before(async () => {
    server = await startBrigade({ args: ["--connect-rate", String(LIMIT)] });
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  test("a user's connection past the limit in a minute is refused; another user is not", async () => {
    const a = await registerCustomer(server, "a");
    const b = await registerCustomer(server, "b");
    for (let i = 0; i < LIMIT; ++i) {
      const client = await connectReady(server, { token: a.token, offset: 0 }, { label: `a#${i + 1}` });
      client.close();
    }
    const started = Date.now();
    const refused = await connectRefused(server, { token: a.token, offset: 0 });
    assert.equal(refused.message, "rate_limited");
    const wait = refused.data?.retry_after_ms;
    assert.ok(Number.isInteger(wait) && wait > 0 && wait <= 60000, `retry_after_ms ${wait}`);
    assert.ok(wait >= 60000 - (Date.now() - started) - 5000, `retry_after_ms ${wait}: the window is a minute`);
    // Per user, not per token: a new sign-in of the same user is refused too.
    const again = await login(server, a.user.email, "password-123");
    assert.equal((await connectRefused(server, { token: again.token })).message, "rate_limited");

    // Another user has its own allowance, and its sockets work.
    const sockets = [];
    for (let i = 0; i < LIMIT; ++i) {
      sockets.push(await connectReady(server, { token: b.token, offset: 0 }, { label: `b#${i + 1}` }));
    }
    clients.push(...sockets);
    const [item] = await availableItemIds(server);
    const order = await placeOrder(server, b.token, item);
    for (const s of sockets) {
      await s.until(() => s.named("order:changed").some((e) => e.args[0].order.id === order.id), 5000, "b's order");
    }
    const refusedB = await connect(server, { token: b.token }).then(
      (c) => {
        c.close();
        return null;
      },
      (error) => error,
    );
    assert.equal(refusedB?.message, "rate_limited", "b's own limit");
  });
});
