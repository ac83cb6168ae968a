// Menu management: categories and items, create / PATCH subsets / delete, version
// +1 per change, if_version, ordering by position, availability.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { del, demoSessions, expectError, expectStatus, get, patch, post, startServer } from "./lib/server.mjs";

let server;
let admin;
let t;
before(async () => {
  server = await startServer();
  ({ admin } = await demoSessions(server));
  t = { token: admin.token };
});
after(async () => {
  await server?.stop();
});

async function menu() {
  const res = await get(server, "/api/menu");
  expectStatus(res, 200);
  return res.body;
}
async function category(body) {
  const res = await post(server, "/api/menu/categories", body, t);
  expectStatus(res, 201);
  return res.body;
}
async function item(body) {
  const res = await post(server, "/api/menu/items", body, t);
  expectStatus(res, 201);
  return res.body;
}

describe("GET /api/menu", () => {
  test("the demo menu: 5 categories × 5 items, ordered by position, every field", async () => {
    const m = await menu();
    assert.deepEqual(Object.keys(m), ["categories"]);
    assert.equal(m.categories.length, 5);
    const positions = m.categories.map((c) => c.position);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    for (const c of m.categories) {
      assert.deepEqual(Object.keys(c).sort(), ["id", "items", "name", "position", "version"]);
      assert.equal(c.items.length, 5);
      for (const i of c.items) {
        assert.deepEqual(Object.keys(i).sort(), [
          "allergens",
          "available",
          "category_id",
          "description",
          "id",
          "name",
          "option_groups",
          "position",
          "price_cents",
          "version",
        ]);
        assert.equal(i.category_id, c.id);
        assert.ok(Number.isInteger(i.price_cents) && i.price_cents > 0);
        assert.equal(typeof i.available, "boolean");
        assert.ok(i.name.length > 0);
      }
      const ip = c.items.map((i) => i.position);
      assert.deepEqual(ip, [...ip].sort((a, b) => a - b));
    }
  });
});

describe("categories", () => {
  test("POST → 201 with the record (version 1); appears in the menu", async () => {
    const c = await category({ name: "  Specials  ", position: 50 });
    assert.deepEqual(Object.keys(c).sort(), ["id", "name", "position", "version"]);
    assert.equal(c.name, "Specials");
    assert.equal(c.position, 50);
    assert.equal(c.version, 1);
    const m = await menu();
    const found = m.categories.find((x) => x.id === c.id);
    assert.deepEqual(found, { ...c, items: [] });
  });

  test("POST without position places it somewhere valid (an integer ≥ 0)", async () => {
    const c = await category({ name: "No position" });
    assert.ok(Number.isInteger(c.position) && c.position >= 0);
  });

  test("PATCH takes any subset; version +1 per change; if_version", async () => {
    const c = await category({ name: "Patch me", position: 60 });
    let res = await patch(server, `/api/menu/categories/${c.id}`, { name: "Patched" }, t);
    expectStatus(res, 200);
    assert.deepEqual(res.body, { ...c, name: "Patched", version: 2 });
    res = await patch(server, `/api/menu/categories/${c.id}`, { position: 61 }, t);
    assert.deepEqual(res.body, { ...c, name: "Patched", position: 61, version: 3 });
    expectError(await patch(server, `/api/menu/categories/${c.id}`, { name: "Stale", if_version: 2 }, t), 409, "version_conflict");
    res = await patch(server, `/api/menu/categories/${c.id}`, { name: "Fresh", if_version: 3 }, t);
    expectStatus(res, 200);
    assert.equal(res.body.version, 4);
    const m = await menu();
    assert.equal(m.categories.find((x) => x.id === c.id).name, "Fresh");
  });

  test("reordering by position changes the menu's order", async () => {
    const m0 = await menu();
    const [first, second] = m0.categories;
    const top = Math.min(...m0.categories.map((c) => c.position));
    // Put the second category first.
    expectStatus(await patch(server, `/api/menu/categories/${second.id}`, { position: Math.max(0, top - 1) }, t), 200);
    expectStatus(await patch(server, `/api/menu/categories/${first.id}`, { position: 999 }, t), 200);
    const m1 = await menu();
    const ids = m1.categories.map((c) => c.id);
    assert.ok(ids.indexOf(second.id) < ids.indexOf(first.id));
    assert.equal(ids.at(-1), first.id);
  });

  test("DELETE with items → 409 category_not_empty; empty → 204, gone; again → 404", async () => {
    const c = await category({ name: "Doomed" });
    const i = await item({ category_id: c.id, name: "Last one", price_cents: 100 });
    expectError(await del(server, `/api/menu/categories/${c.id}`, t), 409, "category_not_empty");
    assert.ok((await menu()).categories.some((x) => x.id === c.id));
    expectStatus(await del(server, `/api/menu/items/${i.id}`, t), 204);
    const res = await del(server, `/api/menu/categories/${c.id}`, t);
    expectStatus(res, 204);
    assert.equal(res.text, "");
    assert.ok(!(await menu()).categories.some((x) => x.id === c.id));
    expectError(await del(server, `/api/menu/categories/${c.id}`, t), 404, "not_found");
    expectError(await patch(server, `/api/menu/categories/${c.id}`, { name: "Zombie" }, t), 404, "not_found");
    expectError(await post(server, "/api/menu/items", { category_id: c.id, name: "Orphan", price_cents: 1 }, t), 422, "invalid", "category_id");
  });
});

describe("items", () => {
  let cat;
  before(async () => {
    cat = await category({ name: "Items", position: 70 });
  });

  test("POST → 201 with defaults (available, empty description, version 1)", async () => {
    const i = await item({ category_id: cat.id, name: "Plain", price_cents: 0 });
    assert.equal(i.category_id, cat.id);
    assert.equal(i.name, "Plain");
    assert.equal(i.description, "");
    assert.equal(i.price_cents, 0);
    assert.equal(i.available, true);
    assert.equal(i.version, 1);
    assert.ok(Number.isInteger(i.position));
    const full = await item({ category_id: cat.id, name: "Full", description: "d", price_cents: 10_000_000, available: false, position: 9 });
    assert.equal(full.price_cents, 10_000_000);
    assert.equal(full.available, false);
    assert.equal(full.position, 9);
    const m = await menu();
    const listed = m.categories.find((c) => c.id === cat.id).items;
    assert.deepEqual(listed.find((x) => x.id === full.id), full, "unavailable items are listed, marked");
  });

  test("PATCH subsets: only the given fields change; version +1 each time", async () => {
    const i = await item({ category_id: cat.id, name: "Soup", description: "hot", price_cents: 500 });
    let res = await patch(server, `/api/menu/items/${i.id}`, { price_cents: 650 }, t);
    expectStatus(res, 200);
    assert.deepEqual(res.body, { ...i, price_cents: 650, version: 2 });
    res = await patch(server, `/api/menu/items/${i.id}`, { available: false }, t);
    assert.deepEqual(res.body, { ...i, price_cents: 650, available: false, version: 3 });
    res = await patch(server, `/api/menu/items/${i.id}`, { name: "Cold soup", description: "" }, t);
    assert.deepEqual(res.body, { ...i, name: "Cold soup", description: "", price_cents: 650, available: false, version: 4 });
    expectError(await patch(server, `/api/menu/items/${i.id}`, { available: true, if_version: 3 }, t), 409, "version_conflict");
    res = await patch(server, `/api/menu/items/${i.id}`, { available: true, if_version: 4 }, t);
    assert.equal(res.body.available, true);
    assert.equal(res.body.version, 5);
    const listed = (await menu()).categories.find((c) => c.id === cat.id).items.find((x) => x.id === i.id);
    assert.deepEqual(listed, res.body);
  });

  test("moving an item to another category", async () => {
    const other = await category({ name: "Other", position: 71 });
    const i = await item({ category_id: cat.id, name: "Mover", price_cents: 100 });
    const res = await patch(server, `/api/menu/items/${i.id}`, { category_id: other.id }, t);
    expectStatus(res, 200);
    assert.equal(res.body.category_id, other.id);
    const m = await menu();
    assert.ok(m.categories.find((c) => c.id === other.id).items.some((x) => x.id === i.id));
    assert.ok(!m.categories.find((c) => c.id === cat.id).items.some((x) => x.id === i.id));
  });

  test("items are ordered by position inside a category", async () => {
    const c = await category({ name: "Ordered", position: 72 });
    const x = await item({ category_id: c.id, name: "x", price_cents: 1, position: 2 });
    const y = await item({ category_id: c.id, name: "y", price_cents: 1, position: 1 });
    const z = await item({ category_id: c.id, name: "z", price_cents: 1, position: 3 });
    const order = async () => (await menu()).categories.find((k) => k.id === c.id).items.map((i) => i.id);
    assert.deepEqual(await order(), [y.id, x.id, z.id]);
    expectStatus(await patch(server, `/api/menu/items/${z.id}`, { position: 0 }, t), 200);
    assert.deepEqual(await order(), [z.id, y.id, x.id]);
  });

  test("DELETE → 204, gone from the menu; again → 404; PATCH → 404", async () => {
    const i = await item({ category_id: cat.id, name: "Gone", price_cents: 100 });
    expectStatus(await del(server, `/api/menu/items/${i.id}`, t), 204);
    const m = await menu();
    assert.ok(!m.categories.flatMap((c) => c.items).some((x) => x.id === i.id));
    expectError(await del(server, `/api/menu/items/${i.id}`, t), 404, "not_found");
    expectError(await patch(server, `/api/menu/items/${i.id}`, { name: "Back" }, t), 404, "not_found");
  });
});
