// Recovery that cannot be gap-free is announced: an offset older than the retained
// history → resync {reason:"history_lost"}; another stream's epoch → resync
// {reason:"epoch_mismatch"}; both followed by `ready` and then live events.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  availableItemIds,
  call,
  connectReady,
  loginDemo,
  registerCustomer,
  sqlite,
  startBrigade,
} from "./lib/harness.mjs";

describe("resync", () => {
  let server;
  let admin;
  let customer;
  let items;
  let first; // the first admin connection's ready {epoch, last_seq}
  const clients = [];

  before(async () => {
    // Changes are kept a minute; the history_lost test moves the clock past it.
    server = await startBrigade({ args: ["--test-clock", "--change-retention", "60"] });
    admin = await loginDemo(server, "admin");
    customer = await registerCustomer(server, "c");
    items = await availableItemIds(server);
    const watcher = await connectReady(server, { token: admin.token }, { label: "watcher" });
    clients.push(watcher);
    first = watcher.named("ready")[0].args[0];
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.dispose();
  });

  let price = 500;
  const touchMenu = () =>
    call(server, "PATCH", `/api/menu/items/${items[0]}`, { token: admin.token, body: { price_cents: ++price } });

  // Events of a connection in order, without the payloads that do not matter here.
  const names = (client) => client.events.map((e) => e.name);

  async function expectResyncThenLive(client, reason) {
    const ready = await client.ready(1);
    assert.deepEqual(names(client), ["resync", "ready"], `${client.label}: events before ready`);
    assert.deepEqual(client.events[0].args[0], { reason });
    const item = await touchMenu();
    await client.until(() => client.named("menu:changed").length === 1, 3000, "a live event after ready");
    const live = client.named("menu:changed")[0].args[0];
    assert.ok(live.seq > ready.last_seq, "the live event comes after ready.last_seq");
    assert.equal(live.item.price_cents, item.price_cents);
    assert.deepEqual(names(client), ["resync", "ready", "menu:changed"]);
    return ready;
  }

  test("an offset within the retained history is replayed without resync", async () => {
    const before = first.last_seq;
    const item = await touchMenu();
    const client = await connectReady(
      server,
      { token: customer.token, offset: before, epoch: first.epoch },
      { label: "customer (recent offset)" },
    );
    clients.push(client);
    assert.deepEqual(names(client), ["menu:changed", "ready"]);
    assert.equal(client.named("menu:changed")[0].args[0].item.price_cents, item.price_cents);
  });

  test("an offset older than the retention gets resync history_lost, ready, then live events", async () => {
    const old = first.last_seq;
    await touchMenu();
    await touchMenu();
    // Past the minute of retention: the clock's answer comes after the retention pass.
    await server.advanceClock(61000);
    const [row] = await sqlite(server.dbPath, "SELECT coalesce(min(seq), 0) AS oldest FROM changes;", {
      json: true,
    });
    assert.ok(row.oldest === 0 || row.oldest > old + 1, `retention did not remove seq ${old + 1} (oldest ${row.oldest})`);
    for (const [token, label] of [
      [admin.token, "admin (old offset)"],
      [customer.token, "customer (old offset)"],
    ]) {
      const client = await connectReady(server, { token, offset: old, epoch: first.epoch }, { label });
      clients.push(client);
      const ready = await expectResyncThenLive(client, "history_lost");
      assert.equal(ready.epoch, first.epoch);
    }
  });

  test("another epoch gets resync epoch_mismatch, ready, then live events", async () => {
    const ready = clients[0].named("ready")[0].args[0];
    const client = await connectReady(
      server,
      { token: admin.token, offset: ready.last_seq, epoch: `${first.epoch}-other` },
      { label: "admin (wrong epoch)" },
    );
    clients.push(client);
    const got = await expectResyncThenLive(client, "epoch_mismatch");
    assert.equal(got.epoch, first.epoch, "ready names the stream's real epoch");
  });

  test("an offset beyond the head gets resync, ready, then live events", async () => {
    const client = await connectReady(
      server,
      { token: admin.token, offset: 1e12, epoch: first.epoch },
      { label: "admin (offset ahead)" },
    );
    clients.push(client);
    await client.ready(1);
    assert.deepEqual(names(client), ["resync", "ready"]);
    assert.equal(typeof client.events[0].args[0].reason, "string");
  });

  test("the watcher connected from the start saw every change, live, with no resync", () => {
    const watcher = clients[0];
    assert.equal(watcher.named("resync").length, 0);
    const seqs = watcher.streamSeqs();
    assert.ok(seqs.length >= 5);
    for (let i = 1; i < seqs.length; ++i) assert.equal(seqs[i], seqs[i - 1] + 1, "consecutive seqs");
  });
});
