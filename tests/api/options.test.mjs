// Item options and allergens (docs/API.md, "Options and allergens"): option groups and
// allergens on items (ids, defaults, limits, validation with the exact field), PATCH
// replacing groups (ids kept, new ids, removed entries, foreign and repeated ids,
// if_version), options on order lines (min/max, foreign/unknown/repeated/unavailable
// ids, the per-line limit, prices, the options kept as they were when ordered,
// Idempotency-Key) and the order document over /api/changes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  demoSessions,
  expectError,
  expectStatus,
  get,
  moveOk,
  newCustomer,
  patch,
  post,
  startServer,
} from "./lib/server.mjs";

// src/store/types.hpp and src/app/menu_options.{hpp,cpp}.
const kMaxOptionGroups = 10;
const kMaxOptionsPerGroup = 20;
const kMaxOptionsPerLine = kMaxOptionGroups * kMaxOptionsPerGroup;
const kMaxOptionNameLength = 200;
const kMaxOptionPriceCents = 10_000_000;
const kAllergens = [
  "celery",
  "gluten",
  "crustaceans",
  "eggs",
  "fish",
  "lupin",
  "milk",
  "molluscs",
  "mustard",
  "nuts",
  "peanuts",
  "sesame",
  "soybeans",
  "sulphites",
];

const ITEM_KEYS = [
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
];

let server;
let admin;
let categoryId;
before(async () => {
  server = await startServer();
  ({ admin } = await demoSessions(server));
  categoryId = (await get(server, "/api/menu")).body.categories[0].id;
});
after(async () => {
  await server?.stop();
});

const asAdmin = () => ({ token: admin.token });

// n options named `${prefix}1..n` (each optionally with extra fields).
function optionList(n, prefix = "opt", extra = {}) {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i + 1}`, ...extra }));
}

function createItemRaw(body) {
  return post(server, "/api/menu/items", { category_id: categoryId, name: "Options test", price_cents: 1000, ...body }, asAdmin());
}

async function createItem(body) {
  const res = await createItemRaw(body);
  expectStatus(res, 201, "create item");
  return res.body;
}

async function menuItems() {
  const res = await get(server, "/api/menu");
  expectStatus(res, 200);
  return res.body.categories.flatMap((c) => c.items);
}

async function menuItem(id) {
  const found = (await menuItems()).find((i) => i.id === id);
  assert.ok(found, `item ${id} is on the menu`);
  return found;
}

function idsOf(item) {
  return item.option_groups.flatMap((g) => [g.id, ...g.options.map((o) => o.id)]);
}

function order(token, items, { headers, delivery = { address: "1 Option Street" } } = {}) {
  return post(server, "/api/orders", { items, delivery }, { token, headers });
}

// The docs' burger: Size (required, one of Regular/Large +200) and Remove (up to 2 of
// No onion / No pickles, the latter unavailable).
function burgerBody(name = "Burger") {
  return {
    name,
    price_cents: 1000,
    allergens: ["gluten", "milk"],
    option_groups: [
      { name: "Size", min: 1, max: 1, options: [{ name: "Regular" }, { name: "Large", price_cents: 200 }] },
      { name: "Remove", min: 0, max: 2, options: [{ name: "No onion" }, { name: "No pickles", available: false }] },
    ],
  };
}

function burgerParts(item) {
  const [size, remove] = item.option_groups;
  return {
    item,
    size,
    remove,
    regular: size.options[0],
    large: size.options[1],
    noOnion: remove.options[0],
    noPickles: remove.options[1],
  };
}

describe("creating items with options and allergens", () => {
  test("201: ids assigned, defaults filled in, GET /api/menu shows the same", async () => {
    const first = await createItem(burgerBody());
    assert.deepEqual(Object.keys(first).sort(), ITEM_KEYS);
    assert.equal(first.version, 1);
    assert.deepEqual(first.allergens, ["gluten", "milk"]);
    assert.equal(first.option_groups.length, 2);
    const [size, remove] = first.option_groups;
    for (const g of first.option_groups) assert.deepEqual(Object.keys(g).sort(), ["id", "max", "min", "name", "options"]);
    for (const o of [...size.options, ...remove.options]) {
      assert.deepEqual(Object.keys(o).sort(), ["available", "id", "name", "price_cents"]);
    }
    assert.deepEqual(
      first.option_groups.map((g) => ({ ...g, id: 0, options: g.options.map((o) => ({ ...o, id: 0 })) })),
      [
        {
          id: 0,
          name: "Size",
          min: 1,
          max: 1,
          options: [
            { id: 0, name: "Regular", price_cents: 0, available: true },
            { id: 0, name: "Large", price_cents: 200, available: true },
          ],
        },
        {
          id: 0,
          name: "Remove",
          min: 0,
          max: 2,
          options: [
            { id: 0, name: "No onion", price_cents: 0, available: true },
            { id: 0, name: "No pickles", price_cents: 0, available: false },
          ],
        },
      ],
    );

    // A group without min/max: min 0, max 1.
    const second = await createItem({
      name: "Defaults",
      option_groups: [{ name: "Sauce", options: [{ name: "Ketchup" }, { name: "Mayo", price_cents: 50, available: true }] }],
    });
    assert.deepEqual(second.allergens, [], "allergens default to []");
    const sauce = second.option_groups[0];
    assert.equal(sauce.min, 0);
    assert.equal(sauce.max, 1);
    assert.deepEqual(sauce.options.map(({ id, ...rest }) => rest), [
      { name: "Ketchup", price_cents: 0, available: true },
      { name: "Mayo", price_cents: 50, available: true },
    ]);

    // Ids: positive integers, unique across groups, options and both items.
    const ids = [...idsOf(first), ...idsOf(second)];
    assert.equal(ids.length, 9); // 2 groups + 4 options, 1 group + 2 options
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0, `id ${id} is a positive integer`);
    assert.equal(new Set(ids).size, ids.length, `ids are unique: ${ids}`);

    // The menu shows the same documents.
    assert.deepEqual(await menuItem(first.id), first);
    assert.deepEqual(await menuItem(second.id), second);
  });

  test("an item without options or allergens has option_groups [] and allergens []", async () => {
    const plain = await createItem({ name: "Plain" });
    assert.deepEqual(plain.option_groups, []);
    assert.deepEqual(plain.allergens, []);
    const explicit = await createItem({ name: "Explicit empty", option_groups: [], allergens: [] });
    assert.deepEqual(explicit.option_groups, []);
    assert.deepEqual(explicit.allergens, []);
    // Demo items too.
    for (const item of await menuItems()) {
      assert.ok(Array.isArray(item.option_groups), `item ${item.id} has option_groups`);
      assert.ok(Array.isArray(item.allergens), `item ${item.id} has allergens`);
    }
  });

  test("each of the 14 allergens is accepted, alone and all together", async () => {
    const all = await createItem({ name: "Everything", allergens: kAllergens });
    assert.deepEqual([...all.allergens].sort(), [...kAllergens].sort());
    assert.equal(all.allergens.length, 14);
    assert.deepEqual((await menuItem(all.id)).allergens, all.allergens);
    const single = await createItem({ name: "One allergen" });
    for (const name of kAllergens) {
      const res = await patch(server, `/api/menu/items/${single.id}`, { allergens: [name] }, asAdmin());
      expectStatus(res, 200, `allergen ${name}`);
      assert.deepEqual(res.body.allergens, [name]);
    }
    for (const name of kAllergens) {
      const res = await createItemRaw({ name: `Only ${name}`, allergens: [name] });
      expectStatus(res, 201, `create with ${name}`);
      assert.deepEqual(res.body.allergens, [name]);
    }
  });

  test("exactly the limits are accepted: 10 groups, 20 options, 200-char names, price 0 and 10,000,000", async () => {
    const groups = Array.from({ length: kMaxOptionGroups }, (_, i) => ({ name: `G${i}`, options: [{ name: "only" }] }));
    const many = await createItem({ name: "Ten groups", option_groups: groups });
    assert.equal(many.option_groups.length, kMaxOptionGroups);
    assert.deepEqual(many.option_groups.map((g) => g.name), groups.map((g) => g.name));

    const wide = await createItem({
      name: "Twenty options",
      option_groups: [{ name: "Pick", min: kMaxOptionsPerGroup, max: kMaxOptionsPerGroup, options: optionList(kMaxOptionsPerGroup) }],
    });
    assert.equal(wide.option_groups[0].options.length, kMaxOptionsPerGroup);
    assert.equal(wide.option_groups[0].min, kMaxOptionsPerGroup);
    assert.equal(wide.option_groups[0].max, kMaxOptionsPerGroup);
    assert.deepEqual(wide.option_groups[0].options.map((o) => o.name), optionList(kMaxOptionsPerGroup).map((o) => o.name));
    assert.equal(new Set(idsOf(wide)).size, kMaxOptionsPerGroup + 1);

    const long = "n".repeat(kMaxOptionNameLength);
    const edges = await createItem({
      name: "Edges",
      option_groups: [
        {
          name: long,
          options: [
            { name: long, price_cents: 0 },
            { name: "x", price_cents: kMaxOptionPriceCents },
          ],
        },
      ],
    });
    assert.equal(edges.option_groups[0].name, long);
    assert.equal(edges.option_groups[0].options[0].name, long);
    assert.equal(edges.option_groups[0].options[1].price_cents, kMaxOptionPriceCents);
  });
});

describe("validation: 422 naming the field, nothing created", () => {
  const longName = "n".repeat(kMaxOptionNameLength + 1);
  const group = (extra = {}) => ({ name: "G", options: [{ name: "a" }, { name: "b" }], ...extra });
  const cases = [
    ["option_groups not an array", { option_groups: { name: "G" } }, "option_groups"],
    ["option_groups a string", { option_groups: "Size" }, "option_groups"],
    ["a group not an object", { option_groups: [group(), 5] }, "option_groups[1]"],
    ["a group without name", { option_groups: [{ options: [{ name: "a" }] }] }, "option_groups[0].name"],
    ["a group with an empty name", { option_groups: [group(), group({ name: "" })] }, "option_groups[1].name"],
    ["a group name of 201 chars", { option_groups: [group({ name: longName })] }, "option_groups[0].name"],
    ["options empty", { option_groups: [group({ options: [] })] }, "option_groups[0].options"],
    ["options missing", { option_groups: [{ name: "G" }] }, "option_groups[0].options"],
    ["options not an array", { option_groups: [group(), group({ options: { name: "a" } })] }, "option_groups[1].options"],
    [
      `more than ${kMaxOptionGroups} groups`,
      { option_groups: Array.from({ length: kMaxOptionGroups + 1 }, () => group()) },
      "option_groups",
    ],
    [
      `more than ${kMaxOptionsPerGroup} options`,
      { option_groups: [group({ options: optionList(kMaxOptionsPerGroup + 1) })] },
      "option_groups[0].options",
    ],
    ["min > max", { option_groups: [group({ min: 2, max: 1 })] }, "option_groups[0].min"],
    ["min > max in the second group", { option_groups: [group(), group({ min: 2 })] }, "option_groups[1].min"],
    ["negative min", { option_groups: [group({ min: -1 })] }, "option_groups[0].min"],
    ["max > number of options", { option_groups: [group({ max: 3 })] }, "option_groups[0].max"],
    ["min = max > number of options", { option_groups: [group(), group({ min: 3, max: 3 })] }, "option_groups[1].max"],
    ["max 0", { option_groups: [group({ max: 0 })] }, "option_groups[0].max"],
    ["max not an integer", { option_groups: [group({ max: "2" })] }, "option_groups[0].max"],
    ["an option not an object", { option_groups: [group({ options: [{ name: "a" }, "b"] })] }, "option_groups[0].options[1]"],
    ["negative price", { option_groups: [group({ options: [{ name: "a", price_cents: -1 }] })] }, "option_groups[0].options[0].price_cents"],
    [
      "price above the limit",
      { option_groups: [group({ options: [{ name: "a" }, { name: "b", price_cents: kMaxOptionPriceCents + 1 }] })] },
      "option_groups[0].options[1].price_cents",
    ],
    ["fractional price", { option_groups: [group({ options: [{ name: "a", price_cents: 1.5 }] })] }, "option_groups[0].options[0].price_cents"],
    ["option name empty", { option_groups: [group({ options: [{ name: "" }] })] }, "option_groups[0].options[0].name"],
    ["option name missing", { option_groups: [group({ options: [{ price_cents: 5 }] })] }, "option_groups[0].options[0].name"],
    ["option name of 201 chars", { option_groups: [group({ options: [{ name: "a" }, { name: longName }] })] }, "option_groups[0].options[1].name"],
    ["available not a boolean", { option_groups: [group({ options: [{ name: "a", available: "yes" }] })] }, "option_groups[0].options[0].available"],
    ["allergens not an array", { allergens: "gluten" }, "allergens"],
    ["allergens an object", { allergens: { gluten: true } }, "allergens"],
    ["an unknown allergen", { allergens: ["shellfish"] }, "allergens[0]"],
    ["an unknown allergen after a good one", { allergens: ["milk", "Gluten"] }, "allergens[1]"],
    ["an allergen not a string", { allergens: [7] }, "allergens[0]"],
    ["an allergen twice", { allergens: ["gluten", "gluten"] }, "allergens[1]"],
    ["an allergen twice, apart", { allergens: ["eggs", "milk", "fish", "milk"] }, "allergens[3]"],
  ];

  for (const [what, body, field] of cases) {
    test(`POST: ${what} → 422 ${field}`, async () => {
      const before = (await menuItems()).length;
      const res = await createItemRaw({ name: `Invalid: ${what}`, ...body });
      expectError(res, 422, "invalid", field);
      const items = await menuItems();
      assert.equal(items.length, before, "nothing created");
      assert.ok(!items.some((i) => i.name === `Invalid: ${what}`));
    });
  }

  test("PATCH with invalid option_groups or allergens → 422 with the field, the item unchanged", async () => {
    const item = await createItem(burgerBody("Patch validation"));
    for (const [, body, field] of cases) {
      const res = await patch(server, `/api/menu/items/${item.id}`, body, asAdmin());
      expectError(res, 422, "invalid", field);
    }
    assert.deepEqual(await menuItem(item.id), item, "unchanged, version included");
  });
});

describe("PATCH option_groups", () => {
  test("ids given are kept, entries without id get new ids, entries left out are gone; version +1", async () => {
    const other = await createItem(burgerBody("Other burger"));
    const b = burgerParts(await createItem(burgerBody("Patched burger")));
    const before = new Set([...idsOf(b.item), ...idsOf(other)]);
    const res = await patch(
      server,
      `/api/menu/items/${b.item.id}`,
      {
        option_groups: [
          // Size kept (renamed), Large kept (new price), Regular gone, Huge new.
          { id: b.size.id, name: "Portion", min: 1, max: 1, options: [{ id: b.large.id, name: "Large", price_cents: 250 }, { name: "Huge", price_cents: 400 }] },
          // A new group, with the kept option No pickles moved into it.
          { name: "Extras", min: 0, max: 2, options: [{ name: "Cheese", price_cents: 100 }, { id: b.noPickles.id, name: "No pickles", available: true }] },
        ],
        // Remove (and No onion) left out.
      },
      asAdmin(),
    );
    expectStatus(res, 200);
    const item = res.body;
    assert.equal(item.version, b.item.version + 1);
    assert.deepEqual(item.allergens, b.item.allergens, "allergens untouched");
    assert.equal(item.price_cents, b.item.price_cents);
    const [portion, extras] = item.option_groups;
    assert.equal(item.option_groups.length, 2);
    assert.equal(portion.id, b.size.id, "the group's id is kept");
    assert.equal(portion.name, "Portion");
    assert.deepEqual(portion.options[0], { id: b.large.id, name: "Large", price_cents: 250, available: true });
    assert.equal(portion.options[1].name, "Huge");
    assert.equal(portion.options[1].price_cents, 400);
    assert.equal(extras.name, "Extras");
    assert.deepEqual(extras.options[1], { id: b.noPickles.id, name: "No pickles", price_cents: 0, available: true });
    const fresh = [portion.options[1].id, extras.id, extras.options[0].id];
    for (const id of fresh) {
      assert.ok(Number.isInteger(id) && id > 0);
      assert.ok(!before.has(id), `new id ${id} is not an earlier one`);
    }
    assert.equal(new Set(idsOf(item)).size, 6, "ids unique");
    const now = new Set(idsOf(item));
    for (const gone of [b.regular.id, b.remove.id, b.noOnion.id]) assert.ok(!now.has(gone), `id ${gone} is gone`);
    assert.deepEqual(await menuItem(b.item.id), item);
    assert.deepEqual(await menuItem(other.id), other, "the other item is untouched");

    // Sending the document back as it is keeps every id.
    const same = await patch(server, `/api/menu/items/${item.id}`, { option_groups: item.option_groups }, asAdmin());
    expectStatus(same, 200);
    assert.deepEqual(same.body.option_groups, item.option_groups);
    assert.equal(same.body.version, item.version + 1);

    // option_groups [] removes them all.
    const none = await patch(server, `/api/menu/items/${item.id}`, { option_groups: [] }, asAdmin());
    expectStatus(none, 200);
    assert.deepEqual(none.body.option_groups, []);
  });

  test("ids of another item's group or option, unknown ids and repeated ids → 422; nothing changes", async () => {
    const other = burgerParts(await createItem(burgerBody("Foreign")));
    const b = burgerParts(await createItem(burgerBody("Target")));
    const url = `/api/menu/items/${b.item.id}`;
    const refusals = [
      [{ option_groups: [{ id: other.size.id, name: "G", options: [{ name: "a" }] }] }, "option_groups[0].id"],
      [{ option_groups: [{ name: "G", options: [{ id: other.regular.id, name: "a" }] }] }, "option_groups[0].options[0].id"],
      [{ option_groups: [{ id: 987654321, name: "G", options: [{ name: "a" }] }] }, "option_groups[0].id"],
      [{ option_groups: [{ name: "G", options: [{ id: 987654321, name: "a" }] }] }, "option_groups[0].options[0].id"],
      // An own option's id as a group id, an own group's id as an option id.
      [{ option_groups: [{ id: b.regular.id, name: "G", options: [{ name: "a" }] }] }, "option_groups[0].id"],
      [{ option_groups: [{ name: "G", options: [{ id: b.size.id, name: "a" }] }] }, "option_groups[0].options[0].id"],
      // The same id twice: two groups, two options of one group, options of two groups.
      [
        {
          option_groups: [
            { id: b.size.id, name: "G", options: [{ name: "a" }] },
            { id: b.size.id, name: "H", options: [{ name: "b" }] },
          ],
        },
        "option_groups[1].id",
      ],
      [
        { option_groups: [{ name: "G", max: 2, options: [{ id: b.large.id, name: "a" }, { id: b.large.id, name: "b" }] }] },
        "option_groups[0].options[1].id",
      ],
      [
        {
          option_groups: [
            { name: "G", options: [{ id: b.noOnion.id, name: "a" }] },
            { name: "H", options: [{ id: b.noOnion.id, name: "b" }] },
          ],
        },
        "option_groups[1].options[0].id",
      ],
    ];
    for (const [body, field] of refusals) {
      expectError(await patch(server, url, body, asAdmin()), 422, "invalid", field);
    }
    assert.deepEqual(await menuItem(b.item.id), b.item, "the item is unchanged");
    assert.deepEqual(await menuItem(other.item.id), other.item, "the other item is unchanged");
  });

  test("a stale if_version → 409 version_conflict; the current one is accepted", async () => {
    const item = await createItem(burgerBody("Versioned"));
    const stale = await patch(
      server,
      `/api/menu/items/${item.id}`,
      { option_groups: [{ name: "New", options: [{ name: "x" }] }], if_version: item.version + 1 },
      asAdmin(),
    );
    expectError(stale, 409, "version_conflict");
    assert.deepEqual(await menuItem(item.id), item);
    const ok = await patch(
      server,
      `/api/menu/items/${item.id}`,
      { option_groups: [{ name: "New", options: [{ name: "x" }] }], if_version: item.version },
      asAdmin(),
    );
    expectStatus(ok, 200);
    assert.equal(ok.body.version, item.version + 1);
    const older = await patch(server, `/api/menu/items/${item.id}`, { allergens: ["fish"], if_version: item.version }, asAdmin());
    expectError(older, 409, "version_conflict");
    assert.deepEqual(await menuItem(item.id), ok.body);
  });

  test("PATCH allergens alone keeps option_groups; option_groups alone keeps allergens; other fields keep both", async () => {
    const item = await createItem(burgerBody("Partial"));
    const a = await patch(server, `/api/menu/items/${item.id}`, { allergens: ["sesame", "eggs"] }, asAdmin());
    expectStatus(a, 200);
    assert.deepEqual(a.body.allergens, ["sesame", "eggs"]);
    assert.deepEqual(a.body.option_groups, item.option_groups, "option groups and their ids unchanged");
    assert.equal(a.body.version, item.version + 1);

    const g = await patch(server, `/api/menu/items/${item.id}`, { option_groups: [{ name: "Only", options: [{ name: "one" }] }] }, asAdmin());
    expectStatus(g, 200);
    assert.deepEqual(g.body.allergens, ["sesame", "eggs"], "allergens unchanged");
    assert.equal(g.body.option_groups.length, 1);
    assert.equal(g.body.version, item.version + 2);

    const p = await patch(server, `/api/menu/items/${item.id}`, { price_cents: 1234, name: "Partial 2" }, asAdmin());
    expectStatus(p, 200);
    assert.deepEqual(p.body.allergens, g.body.allergens);
    assert.deepEqual(p.body.option_groups, g.body.option_groups);

    const cleared = await patch(server, `/api/menu/items/${item.id}`, { allergens: [] }, asAdmin());
    expectStatus(cleared, 200);
    assert.deepEqual(cleared.body.allergens, []);
    assert.deepEqual(cleared.body.option_groups, g.body.option_groups);
    assert.deepEqual(await menuItem(item.id), cleared.body);
  });
});

describe("ordering with options", () => {
  let b; // burgerParts
  let other; // burgerParts of a second item
  let plain; // an item without options
  before(async () => {
    b = burgerParts(await createItem(burgerBody("Order burger")));
    other = burgerParts(await createItem(burgerBody("Other order burger")));
    plain = await createItem({ name: "Plain side", price_cents: 300 });
  });

  async function ordersOf(customer) {
    const res = await get(server, "/api/orders", { token: customer.token });
    expectStatus(res, 200);
    return res.body.orders;
  }

  test("refused choices → 422/409 with the field; nothing is created", async () => {
    const c = await newCustomer(server);
    const line = (options, extra = {}) => ({ item_id: b.item.id, quantity: 1, ...(options === undefined ? {} : { options }), ...extra });
    const cases = [
      // [items, status, code, field]
      [[line(undefined)], 422, "invalid", "items[0].options"],
      [[line([])], 422, "invalid", "items[0].options"],
      [[line([b.noOnion.id])], 422, "invalid", "items[0].options"],
      [[line([b.regular.id, b.large.id])], 422, "invalid", "items[0].options"],
      [[{ item_id: plain.id, quantity: 1 }, line([b.large.id, b.regular.id, b.noOnion.id])], 422, "invalid", "items[1].options"],
      [[line([other.regular.id])], 422, "invalid", "items[0].options[0]"],
      [[line([b.regular.id, other.noOnion.id])], 422, "invalid", "items[0].options[1]"],
      [[line([b.size.id])], 422, "invalid", "items[0].options[0]"],
      [[line([b.regular.id, 987654321])], 422, "invalid", "items[0].options[1]"],
      [[{ item_id: plain.id, quantity: 1, options: [b.regular.id] }], 422, "invalid", "items[0].options[0]"],
      [[line([b.regular.id, b.noOnion.id, b.noOnion.id])], 422, "invalid", "items[0].options[2]"],
      [[line([b.regular.id, b.regular.id])], 422, "invalid", "items[0].options[1]"],
      [[line([b.regular.id, b.noPickles.id])], 409, "option_unavailable", "items[0].options[1]"],
      [[line([b.noPickles.id, b.large.id])], 409, "option_unavailable", "items[0].options[0]"],
      [[line(b.regular.id)], 422, "invalid", "items[0].options"],
      [[line({ id: b.regular.id })], 422, "invalid", "items[0].options"],
      [[line(null)], 422, "invalid", "items[0].options"],
      [[line([b.regular.id, String(b.noOnion.id)])], 422, "invalid", "items[0].options[1]"],
      [[line([0])], 422, "invalid", "items[0].options[0]"],
      [[line([-3])], 422, "invalid", "items[0].options[0]"],
      [[line([b.regular.id + 0.5])], 422, "invalid", "items[0].options[0]"],
      [[line([null])], 422, "invalid", "items[0].options[0]"],
      [[line(Array.from({ length: kMaxOptionsPerLine + 1 }, () => b.regular.id))], 422, "invalid", "items[0].options"],
    ];
    for (const [items, status, code, field] of cases) {
      const res = await order(c.token, items);
      expectError(res, status, code, field);
    }
    assert.deepEqual(await ordersOf(c), [], "no order was created");
  });

  test("the 409 names the unavailable option (docs example)", async () => {
    const c = await newCustomer(server);
    const res = await order(c.token, [{ item_id: b.item.id, quantity: 2, options: [b.large.id, b.noPickles.id] }]);
    const error = expectError(res, 409, "option_unavailable", "items[0].options[1]");
    assert.match(error.message, /No pickles/);
    const required = expectError(await order(c.token, [{ item_id: b.item.id, quantity: 2 }]), 422, "invalid", "items[0].options");
    assert.match(required.message, /Size/);
  });

  test(`exactly ${kMaxOptionsPerLine} options on a line are accepted`, async () => {
    const big = await createItem({
      name: "Everything on it",
      price_cents: 500,
      option_groups: Array.from({ length: kMaxOptionGroups }, (_, g) => ({
        name: `G${g}`,
        max: kMaxOptionsPerGroup,
        options: optionList(kMaxOptionsPerGroup, `g${g}o`, { price_cents: 1 }),
      })),
    });
    const all = big.option_groups.flatMap((g) => g.options.map((o) => o.id));
    assert.equal(all.length, kMaxOptionsPerLine);
    const c = await newCustomer(server);
    const res = await order(c.token, [{ item_id: big.id, quantity: 1, options: all }]);
    expectStatus(res, 201);
    assert.equal(res.body.items[0].unit_price_cents, 500 + kMaxOptionsPerLine);
    assert.deepEqual(res.body.items[0].options.map((o) => o.id), all);
  });

  test("prices, totals and the options of each line; kept as they were after the menu changes", async () => {
    const c = await newCustomer(server);
    const res = await order(c.token, [
      { item_id: b.item.id, quantity: 2, options: [b.noOnion.id, b.large.id] },
      { item_id: plain.id, quantity: 3 },
      { item_id: b.item.id, quantity: 1, options: [b.regular.id] },
      { item_id: plain.id, quantity: 1, options: [] },
    ]);
    expectStatus(res, 201);
    const o = res.body;
    assert.deepEqual(o.items, [
      {
        item_id: b.item.id,
        name: "Order burger",
        unit_price_cents: 1200,
        quantity: 2,
        notes: "",
        options: [
          { id: b.noOnion.id, group: "Remove", name: "No onion", price_cents: 0 },
          { id: b.large.id, group: "Size", name: "Large", price_cents: 200 },
        ],
      },
      { item_id: plain.id, name: "Plain side", unit_price_cents: 300, quantity: 3, notes: "", options: [] },
      {
        item_id: b.item.id,
        name: "Order burger",
        unit_price_cents: 1000,
        quantity: 1,
        notes: "",
        options: [{ id: b.regular.id, group: "Size", name: "Regular", price_cents: 0 }],
      },
      { item_id: plain.id, name: "Plain side", unit_price_cents: 300, quantity: 1, notes: "", options: [] },
    ]);
    assert.equal(o.subtotal_cents, 2 * 1200 + 3 * 300 + 1000 + 300);
    assert.equal(o.total_cents, o.subtotal_cents + o.delivery_fee_cents);
    const fetched = await get(server, `/api/orders/${o.id}`, { token: c.token });
    expectStatus(fetched, 200);
    assert.deepEqual(fetched.body, o);

    // The admin renames Large and raises its price, removes No onion, renames the group.
    const changed = await patch(
      server,
      `/api/menu/items/${b.item.id}`,
      {
        price_cents: 1100,
        option_groups: [
          { id: b.size.id, name: "Portion", min: 1, max: 1, options: [{ id: b.regular.id, name: "Regular" }, { id: b.large.id, name: "XL", price_cents: 350 }] },
          { id: b.remove.id, name: "Remove", min: 0, max: 1, options: [{ id: b.noPickles.id, name: "No pickles", available: false }] },
        ],
      },
      asAdmin(),
    );
    expectStatus(changed, 200);
    b = burgerParts(changed.body);
    const kept = await get(server, `/api/orders/${o.id}`, { token: c.token });
    expectStatus(kept, 200);
    assert.deepEqual(kept.body, o, "the placed order keeps the names and prices it was placed with");
    const asAdminToo = await get(server, `/api/orders/${o.id}`, asAdmin());
    assert.deepEqual(asAdminToo.body, o);
    // Moving it does not reprice it.
    const accepted = await moveOk(server, admin.token, o.id, "accepted");
    assert.deepEqual(accepted.items, o.items);
    assert.equal(accepted.subtotal_cents, o.subtotal_cents);

    // New orders use the new menu; the removed option is refused.
    const now = await order(c.token, [{ item_id: b.item.id, quantity: 1, options: [b.large.id] }]);
    expectStatus(now, 201);
    assert.equal(now.body.items[0].unit_price_cents, 1100 + 350);
    assert.deepEqual(now.body.items[0].options, [{ id: b.large.id, group: "Portion", name: "XL", price_cents: 350 }]);
    const gone = await order(c.token, [{ item_id: b.item.id, quantity: 1, options: [b.regular.id, o.items[0].options[0].id] }]);
    expectError(gone, 422, "invalid", "items[0].options[1]");
  });

  test("Idempotency-Key: the same options → 200 the same order; other options → 422 idempotency_key_reused", async () => {
    const x = burgerParts(await createItem(burgerBody("Idempotent burger")));
    const c = await newCustomer(server);
    const headers = { "Idempotency-Key": `options-${Date.now()}` };
    const items = (options) => [{ item_id: x.item.id, quantity: 2, options }];
    const first = await order(c.token, items([x.large.id, x.noOnion.id]), { headers });
    expectStatus(first, 201);
    const repeat = await order(c.token, items([x.large.id, x.noOnion.id]), { headers });
    expectStatus(repeat, 200);
    assert.deepEqual(repeat.body, first.body);
    for (const options of [[x.regular.id, x.noOnion.id], [x.large.id], [x.regular.id]]) {
      expectError(await order(c.token, items(options), { headers }), 422, "idempotency_key_reused");
    }
    const list = await ordersOf(c);
    assert.deepEqual(list.map((o) => o.id), [first.body.id]);
    assert.deepEqual(list[0], first.body);
  });
});

describe("/api/changes", () => {
  async function headSeq() {
    const res = await get(server, "/healthz");
    expectStatus(res, 200);
    assert.ok(Number.isInteger(res.body.last_seq));
    return res.body.last_seq;
  }

  test("the order document over /api/changes (admin) equals the REST document", async () => {
    const x = burgerParts(await createItem(burgerBody("Change burger")));
    const c = await newCustomer(server);
    const after = await headSeq();
    const placed = await order(c.token, [
      { item_id: x.item.id, quantity: 3, options: [x.large.id, x.noOnion.id], notes: "well done" },
      { item_id: x.item.id, quantity: 1, options: [x.regular.id] },
    ]);
    expectStatus(placed, 201);
    const accepted = await moveOk(server, admin.token, placed.body.id, "accepted", { prep_minutes: 12 });

    const res = await get(server, `/api/changes?after=${after}&limit=1000`, asAdmin());
    expectStatus(res, 200);
    const mine = res.body.changes.filter((ch) => ch.collection === "orders" && ch.id === placed.body.id);
    assert.deepEqual(mine.map((ch) => ch.op), ["insert", "update"]);
    assert.deepEqual(mine[0].document, placed.body, "the inserted document is the REST document");
    assert.deepEqual(mine[1].document, accepted, "the updated document is the REST document");
    const rest = await get(server, `/api/orders/${placed.body.id}`, asAdmin());
    assert.deepEqual(mine[1].document, rest.body);
    assert.equal(mine[0].document.items[0].options.length, 2);

    // The customer's own feed carries the same document.
    const own = await get(server, `/api/changes?after=${after}&limit=1000`, { token: c.token });
    expectStatus(own, 200);
    const ownDocs = own.body.changes.filter((ch) => ch.collection === "orders" && ch.id === placed.body.id).map((ch) => ch.document);
    assert.deepEqual(ownDocs, [placed.body, accepted]);
  });

  test("the menu item document over /api/changes carries option_groups and allergens", async () => {
    const after = await headSeq();
    const item = await createItem(burgerBody("Streamed burger"));
    const res = await get(server, `/api/changes?after=${after}&limit=1000`, asAdmin());
    const ch = res.body.changes.find((x) => x.collection === "menu_items" && x.id === item.id);
    assert.ok(ch, "the insert is in the stream");
    const { created_at, updated_at, ...doc } = ch.document;
    assert.equal(typeof created_at, "string");
    assert.equal(typeof updated_at, "string");
    assert.deepEqual(doc, item);
  });
});
