// The restaurant's settings (GET/PATCH /api/restaurant, docs/API.md "The restaurant"):
// the document and its defaults, who may change it, if_version, every limit of a PATCH
// on both sides (src/app/restaurant.hpp, src/app/hours.hpp), what the settings do to
// orders (restaurant_closed, ordering_paused, kitchen_full, Idempotency-Key repeats,
// busy mode), opening hours in a time zone and across midnight (--test-clock),
// GET /api/stats/today's local day, unanswered orders rejected by the server, a pause
// that ends by itself, and the rejection of an order that fell due across a restart.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  demoSessions,
  expectError,
  expectStatus,
  get,
  moveOk,
  newCustomer,
  patch,
  placeOrder,
  post,
  startServer,
} from "./lib/server.mjs";

// ---------------------------------------------------------------------------------
// Helpers

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SEOUL = 9 * HOUR; // Asia/Seoul: UTC+9, no daylight saving time
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]; // Date#getUTCDay order

// The limits, as in src/app/restaurant.hpp and src/app/hours.hpp.
const kMaxRestaurantNameLength = 200;
const kMaxClosedDates = 366;
const kMaxMapSettingLength = 300; // src/app/restaurant.hpp
const kMaxBusyExtraMinutes = 120;
const kMaxPauseMinutes = 24 * 60;
const kMaxOrdersPer15Min = 10000;
const kMinAutoRejectS = 30;
const kMaxAutoRejectS = 3600;
const kMaxSpansPerDay = 6;

const RESTAURANT_KEYS = [
  "accepting_orders",
  "auto_offer",
  "auto_reject_after_s",
  "busy_extra_minutes",
  "closed_dates",
  "closes_at",
  "currency",
  "delivery_area",
  "delivery_code_required",
  "language",
  "location",
  "map_attribution",
  "map_tile_url",
  "max_orders_per_15min",
  "name",
  "next_opening",
  "open_now",
  "opening_hours",
  "pause_on_auto_reject",
  "paused",
  "paused_now",
  "paused_until",
  "timezone",
  "updated_at",
  "version",
];

// The stored settings of a document (what a refused PATCH must leave alone).
const STORED_KEYS = RESTAURANT_KEYS.filter(
  (k) => !["accepting_orders", "closes_at", "next_opening", "open_now", "paused_now"].includes(k),
);
const stored = (doc) => Object.fromEntries(STORED_KEYS.map((k) => [k, doc[k]]));

const DEFAULTS = {
  name: "Brigade",
  timezone: "UTC",
  currency: "EUR",
  language: "en",
  opening_hours: null,
  closed_dates: [],
  paused: false,
  busy_extra_minutes: 0,
  max_orders_per_15min: null,
  auto_reject_after_s: null,
  pause_on_auto_reject: false,
  location: null,
};

const iso = (ms) => new Date(ms).toISOString();
const isoDate = (ms) => iso(ms).slice(0, 10);
const startOfUtcDay = (ms) => Math.floor(ms / DAY) * DAY;
const hh = (h) => `${String(h).padStart(2, "0")}:00`;
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function readRestaurant(server, token) {
  const res = await get(server, "/api/restaurant", { token });
  expectStatus(res, 200, "GET /api/restaurant");
  return res.body;
}

async function setRestaurant(server, token, body) {
  const res = await patch(server, "/api/restaurant", body, { token });
  expectStatus(res, 200, `PATCH /api/restaurant ${JSON.stringify(body).slice(0, 200)}`);
  return res.body;
}

function orderBody(itemId) {
  return { items: [{ item_id: itemId, quantity: 1 }], delivery: { address: "1 Test Street" } };
}

async function tryOrder(server, token, itemId, headers = {}) {
  return post(server, "/api/orders", orderBody(itemId), { token, headers });
}

async function firstItemId(server) {
  const res = await get(server, "/api/menu");
  expectStatus(res, 200);
  return res.body.categories.flatMap((c) => c.items).find((i) => i.available).id;
}

// The server's own time (with a --test-clock server's offset): advancing by 0 reads it.
async function serverNow(server) {
  const offset = await server.advanceClock(0);
  return Date.now() + offset;
}

// The UTC instant of local midnight starting the local day of `ms` in `zone`, found
// among the offsets a zone can have (-14 h .. +14 h, in quarter hours).
function localMidnight(zone, ms) {
  const parts = (t) =>
    Object.fromEntries(
      new Intl.DateTimeFormat("en-CA", {
        timeZone: zone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      })
        .formatToParts(new Date(t))
        .map((p) => [p.type, p.value]),
    );
  const p = parts(ms);
  const utcOfDate = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day));
  for (let q = -56; q <= 56; ++q) {
    const t = utcOfDate - q * 15 * MINUTE;
    const at = parts(t);
    if (at.year === p.year && at.month === p.month && at.day === p.day && at.hour === "00" && at.minute === "00") return t;
  }
  throw new Error(`no local midnight found for ${zone}`);
}


// ---------------------------------------------------------------------------------
// One server with demo data, real time: the document, PATCH rules, orders.

describe("the restaurant on a fresh server", () => {
  let server;
  let demo;
  let itemId;
  before(async () => {
    server = await startServer();
    demo = await demoSessions(server);
    itemId = await firstItemId(server);
  });
  after(async () => {
    await server?.stop();
  });
  const reset = () => setRestaurant(server, demo.admin.token, DEFAULTS);

  describe("GET /api/restaurant", () => {
    test("anonymous: 200 with the defaults and exactly the documented keys", async () => {
      const res = await get(server, "/api/restaurant");
      expectStatus(res, 200);
      assert.ok(res.headers.get("content-type")?.includes("application/json"));
      assert.equal(res.headers.get("cache-control"), "no-store");
      const r = res.body;
      assert.deepEqual(Object.keys(r).sort(), RESTAURANT_KEYS);
      assert.equal(r.name, "Brigade");
      assert.equal(r.timezone, "UTC");
      assert.equal(r.currency, "EUR");
      assert.equal(r.language, "en");
      assert.equal(r.opening_hours, null);
      assert.deepEqual(r.closed_dates, []);
      assert.equal(r.paused, false);
      assert.equal(r.paused_until, null);
      assert.equal(r.busy_extra_minutes, 0);
      assert.equal(r.max_orders_per_15min, null);
      assert.equal(r.auto_reject_after_s, null);
      assert.equal(r.pause_on_auto_reject, false);
      assert.equal(r.location, null);
      assert.ok(Number.isInteger(r.version) && r.version >= 1, `version ${r.version}`);
      assert.match(r.updated_at, RFC3339_MS);
      assert.equal(r.open_now, true);
      assert.equal(r.closes_at, null, "open around the clock: no closing time");
      assert.equal(r.next_opening, null);
      assert.equal(r.paused_now, false);
      assert.equal(r.accepting_orders, true);
    });

    test("HEAD answers as GET, without a body", async () => {
      const g = await get(server, "/api/restaurant");
      const h = await fetch(`${server.url}/api/restaurant`, { method: "HEAD", signal: AbortSignal.timeout(15000) });
      assert.equal(h.status, 200);
      assert.equal(h.headers.get("content-length"), String(Buffer.byteLength(g.text)));
      assert.equal(await h.text(), "");
    });

    test("every role reads the same document; an invalid token is 401", async () => {
      const anonymous = await readRestaurant(server);
      for (const role of ["admin", "customer", "rider"]) {
        assert.deepEqual(await readRestaurant(server, demo[role].token), anonymous, role);
      }
      expectError(await get(server, "/api/restaurant", { token: "x".repeat(43) }), 401, "unauthorized");
    });
  });

  describe("PATCH /api/restaurant: who, versions", () => {
    beforeEach(reset);

    test("no token 401, customer 403, rider 403, admin 200; nothing written by the refused ones", async () => {
      const before = await readRestaurant(server);
      const body = { name: "Chez Test" };
      const none = await patch(server, "/api/restaurant", body);
      expectError(none, 401, "unauthorized");
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      expectError(await patch(server, "/api/restaurant", body, { token: demo.customer.token }), 403, "forbidden");
      expectError(await patch(server, "/api/restaurant", body, { token: demo.rider.token }), 403, "forbidden");
      assert.deepEqual(await readRestaurant(server), before);

      const res = await patch(server, "/api/restaurant", body, { token: demo.admin.token });
      expectStatus(res, 200);
      assert.deepEqual(Object.keys(res.body).sort(), RESTAURANT_KEYS);
      assert.equal(res.body.name, "Chez Test");
      assert.equal(res.body.version, before.version + 1);
      assert.ok(res.body.updated_at >= before.updated_at);
      assert.deepEqual(await readRestaurant(server), res.body, "GET answers what PATCH answered");
      const again = await setRestaurant(server, demo.admin.token, { currency: "KRW", language: "ko" });
      assert.equal(again.version, before.version + 2, "+1 on every change");
      assert.equal(again.name, "Chez Test", "fields not sent are kept");
      assert.equal(again.currency, "KRW");
      assert.equal(again.language, "ko");
    });

    test("if_version: current → 200; stale → 409 version_conflict and nothing changes", async () => {
      const before = await readRestaurant(server);
      const ok = await setRestaurant(server, demo.admin.token, { name: "Versioned", if_version: before.version });
      assert.equal(ok.version, before.version + 1);
      assert.equal(ok.name, "Versioned");
      const stale = await patch(
        server,
        "/api/restaurant",
        { name: "Stale write", if_version: before.version },
        { token: demo.admin.token },
      );
      expectError(stale, 409, "version_conflict");
      assert.deepEqual(stored(await readRestaurant(server)), stored(ok));
      const future = await patch(
        server,
        "/api/restaurant",
        { name: "Future write", if_version: ok.version + 5 },
        { token: demo.admin.token },
      );
      expectError(future, 409, "version_conflict");
      assert.deepEqual(stored(await readRestaurant(server)), stored(ok));
    });

    test("a change is in GET /api/changes as collection restaurant (id 1) for everyone signed in", async () => {
      const head = (await get(server, "/healthz")).body.last_seq;
      const changed = await setRestaurant(server, demo.admin.token, { name: "Streamed" });
      for (const role of ["admin", "customer", "rider"]) {
        const res = await get(server, `/api/changes?after=${head}`, { token: demo[role].token });
        expectStatus(res, 200);
        // This PATCH's change (the node's head may not have reached the previous test's yet).
        const c = res.body.changes.find((x) => x.collection === "restaurant" && x.document.version === changed.version);
        assert.ok(c, `${role} sees the restaurant's change: ${res.text}`);
        assert.equal(c.id, 1);
        assert.equal(c.op, "update");
        assert.equal(c.document.name, "Streamed");
        assert.equal(c.document.version, changed.version);
        assert.equal(c.document.updated_at, changed.updated_at);
        assert.deepEqual(Object.keys(c.document).sort(), [...STORED_KEYS].sort(), "the stored settings, nothing computed");
        assert.deepEqual(c.document, stored(changed));
      }
    });
  });

  describe("PATCH /api/restaurant: validation", () => {
    before(reset);

    const cases = [
      ["an unknown key", { busy: 1 }, "busy"],
      ["a computed field is not a setting", { open_now: false }, "open_now"],
      ["version is not a setting (if_version is)", { version: 7 }, "version"],
      ["an empty name", { name: "" }, "name"],
      ["a name over kMaxRestaurantNameLength", { name: "n".repeat(kMaxRestaurantNameLength + 1) }, "name"],
      ["an unknown time zone", { timezone: "Mars/Olympus" }, "timezone"],
      ["a time zone that is not a string", { timezone: 9 }, "timezone"],
      ["a lower-case currency", { currency: "eur" }, "currency"],
      ["a 4-letter currency", { currency: "EURO" }, "currency"],
      ["a language other than en/ko", { language: "fr" }, "language"],
      ["opening_hours not an object", { opening_hours: [] }, "opening_hours"],
      ["a day name that is not mon..sun", { opening_hours: { monday: [] } }, "opening_hours.monday"],
      ["a day that is not a list", { opening_hours: { mon: "11:00-15:00" } }, "opening_hours.mon"],
      ["a span that opens and closes at once", { opening_hours: { mon: [["11:00", "11:00"]] } }, "opening_hours.mon[0]"],
      ["an hour 25", { opening_hours: { mon: [["11:00", "25:00"]] } }, "opening_hours.mon[0]"],
      ["a start at 24:00", { opening_hours: { tue: [["24:00", "02:00"]] } }, "opening_hours.tue[0]"],
      ["minute 60", { opening_hours: { mon: [["10:00", "11:00"], ["11:60", "12:00"]] } }, "opening_hours.mon[1]"],
      ["H:MM without the leading zero", { opening_hours: { mon: [["9:00", "11:00"]] } }, "opening_hours.mon[0]"],
      ["a span of one time", { opening_hours: { mon: [["11:00"]] } }, "opening_hours.mon[0]"],
      [
        "more than kMaxSpansPerDay spans a day",
        { opening_hours: { sun: Array.from({ length: kMaxSpansPerDay + 1 }, (_, i) => [hh(i * 2), hh(i * 2 + 1)]) } },
        "opening_hours.sun",
      ],
      ["a date that does not exist", { closed_dates: ["2026-02-30"] }, "closed_dates[0]"],
      ["the second date bad", { closed_dates: ["2026-12-25", "2026-13-01"] }, "closed_dates[1]"],
      ["closed_dates not a list", { closed_dates: "2026-12-25" }, "closed_dates"],
      [
        "more than kMaxClosedDates dates",
        { closed_dates: Array.from({ length: kMaxClosedDates + 1 }, (_, i) => isoDate(Date.UTC(2030, 0, 1) + i * DAY)) },
        "closed_dates",
      ],
      ["busy_extra_minutes over kMaxBusyExtraMinutes", { busy_extra_minutes: kMaxBusyExtraMinutes + 1 }, "busy_extra_minutes"],
      ["busy_extra_minutes -1", { busy_extra_minutes: -1 }, "busy_extra_minutes"],
      ["busy_extra_minutes a string", { busy_extra_minutes: "20" }, "busy_extra_minutes"],
      ["busy_extra_minutes a fraction", { busy_extra_minutes: 1.5 }, "busy_extra_minutes"],
      ["pause_minutes 0", { pause_minutes: 0 }, "pause_minutes"],
      ["pause_minutes over kMaxPauseMinutes", { pause_minutes: kMaxPauseMinutes + 1 }, "pause_minutes"],
      ["max_orders_per_15min 0", { max_orders_per_15min: 0 }, "max_orders_per_15min"],
      ["max_orders_per_15min over kMaxOrdersPer15Min", { max_orders_per_15min: kMaxOrdersPer15Min + 1 }, "max_orders_per_15min"],
      ["auto_reject_after_s under kMinAutoRejectS", { auto_reject_after_s: kMinAutoRejectS - 1 }, "auto_reject_after_s"],
      ["auto_reject_after_s over kMaxAutoRejectS", { auto_reject_after_s: kMaxAutoRejectS + 1 }, "auto_reject_after_s"],
      ["paused_until in the past", { paused_until: iso(Date.now() - HOUR) }, "paused_until"],
      ["paused_until not a time", { paused_until: "tomorrow" }, "paused_until"],
      ["paused not a boolean", { paused: "yes" }, "paused"],
      ["pause_on_auto_reject not a boolean", { pause_on_auto_reject: 1 }, "pause_on_auto_reject"],
      ["location lat 91", { location: { lat: 91, lng: 0 } }, "location.lat"],
      ["location lng -181", { location: { lat: 0, lng: -181 } }, "location.lng"],
      ["location without lng", { location: { lat: 10 } }, "location.lng"],
      ["location not an object", { location: [1, 2] }, "location"],
      ["if_version not an integer", { if_version: "1" }, "if_version"],
      ["map_tile_url over http", { map_tile_url: "http://tiles.example/{z}/{x}/{y}.png" }, "map_tile_url"],
      ["map_tile_url without {x}", { map_tile_url: "https://tiles.example/{z}/{y}.png" }, "map_tile_url"],
      ["map_tile_url over kMaxMapSettingLength", { map_tile_url: `https://t.example/{z}/{x}/{y}/${"a".repeat(kMaxMapSettingLength)}` }, "map_tile_url"],
      ["map_attribution over kMaxMapSettingLength", { map_attribution: "a".repeat(kMaxMapSettingLength + 1) }, "map_attribution"],
      ["auto_offer not a boolean", { auto_offer: "on" }, "auto_offer"],
      ["delivery_code_required not a boolean", { delivery_code_required: 1 }, "delivery_code_required"],
    ];
    for (const [what, bad, field] of cases) {
      test(`${what} → 422 invalid, field ${field}, nothing written`, async () => {
        const before = await readRestaurant(server);
        // A valid change travels with the bad one: it must not be written either.
        const body = { ...bad };
        if (!("name" in bad)) body.name = "Must not be written";
        const res = await patch(server, "/api/restaurant", body, { token: demo.admin.token });
        expectError(res, 422, "invalid", field);
        const now = await readRestaurant(server);
        assert.equal(now.version, before.version, "version unchanged");
        assert.deepEqual(stored(now), stored(before));
      });
    }

    test("the bodies that are not objects are refused", async () => {
      const before = await readRestaurant(server);
      expectStatus(await patch(server, "/api/restaurant", "[1]", { token: demo.admin.token }), 422);
      expectError(await patch(server, "/api/restaurant", "{", { token: demo.admin.token }), 400, "malformed_request");
      assert.equal((await readRestaurant(server)).version, before.version);
    });
  });

  describe("PATCH /api/restaurant: the limits themselves are accepted", () => {
    beforeEach(reset);
    after(reset);

    test("name of 1 and of kMaxRestaurantNameLength characters", async () => {
      assert.equal((await setRestaurant(server, demo.admin.token, { name: "X" })).name, "X");
      const long = "N".repeat(kMaxRestaurantNameLength);
      assert.equal((await setRestaurant(server, demo.admin.token, { name: long })).name, long);
    });

    test("timezone, currency, language", async () => {
      const r = await setRestaurant(server, demo.admin.token, { timezone: "Asia/Seoul", currency: "KRW", language: "ko" });
      assert.equal(r.timezone, "Asia/Seoul");
      assert.equal(r.currency, "KRW");
      assert.equal(r.language, "ko");
      assert.equal((await setRestaurant(server, demo.admin.token, { language: "en" })).language, "en");
    });

    test("busy_extra_minutes 0 and kMaxBusyExtraMinutes", async () => {
      assert.equal((await setRestaurant(server, demo.admin.token, { busy_extra_minutes: kMaxBusyExtraMinutes })).busy_extra_minutes, kMaxBusyExtraMinutes);
      assert.equal((await setRestaurant(server, demo.admin.token, { busy_extra_minutes: 0 })).busy_extra_minutes, 0);
    });

    test("pause_minutes 1 and kMaxPauseMinutes: paused until that far from now", async () => {
      for (const minutes of [1, kMaxPauseMinutes]) {
        const t0 = Date.now();
        const r = await setRestaurant(server, demo.admin.token, { pause_minutes: minutes });
        const t1 = Date.now();
        assert.equal(r.paused, true);
        assert.equal(r.paused_now, true);
        assert.equal(r.accepting_orders, false);
        const until = Date.parse(r.paused_until);
        assert.match(r.paused_until, RFC3339_MS);
        assert.ok(until >= t0 + minutes * MINUTE - 1000 && until <= t1 + minutes * MINUTE + 1000, `${minutes} min: ${r.paused_until}`);
        await setRestaurant(server, demo.admin.token, { paused: false });
      }
    });

    test("max_orders_per_15min 1 and kMaxOrdersPer15Min; null switches it off", async () => {
      assert.equal((await setRestaurant(server, demo.admin.token, { max_orders_per_15min: kMaxOrdersPer15Min })).max_orders_per_15min, kMaxOrdersPer15Min);
      assert.equal((await setRestaurant(server, demo.admin.token, { max_orders_per_15min: 1 })).max_orders_per_15min, 1);
      assert.equal((await setRestaurant(server, demo.admin.token, { max_orders_per_15min: null })).max_orders_per_15min, null);
    });

    test("auto_reject_after_s kMinAutoRejectS and kMaxAutoRejectS; null switches it off", async () => {
      // The maximum first: nothing pending here is an hour old, so nothing is rejected.
      assert.equal((await setRestaurant(server, demo.admin.token, { auto_reject_after_s: kMaxAutoRejectS })).auto_reject_after_s, kMaxAutoRejectS);
      assert.equal((await setRestaurant(server, demo.admin.token, { auto_reject_after_s: kMinAutoRejectS })).auto_reject_after_s, kMinAutoRejectS);
      assert.equal((await setRestaurant(server, demo.admin.token, { auto_reject_after_s: null })).auto_reject_after_s, null);
    });

    test("kMaxSpansPerDay spans a day, 24:00 as an end, a span passing midnight; unnamed days are closed", async () => {
      const six = Array.from({ length: kMaxSpansPerDay }, (_, i) => [hh(i * 2), hh(i * 2 + 1)]);
      const r = await setRestaurant(server, demo.admin.token, {
        opening_hours: { mon: six, tue: [["20:00", "24:00"]], sat: [["22:00", "02:00"]] },
      });
      assert.deepEqual(r.opening_hours, {
        mon: six,
        tue: [["20:00", "24:00"]],
        wed: [],
        thu: [],
        fri: [],
        sat: [["22:00", "02:00"]],
        sun: [],
      });
      assert.deepEqual((await readRestaurant(server)).opening_hours, r.opening_hours);
    });

    test("kMaxClosedDates dates (kept sorted)", async () => {
      const dates = Array.from({ length: kMaxClosedDates }, (_, i) => isoDate(Date.UTC(2030, 0, 1) + i * DAY));
      const r = await setRestaurant(server, demo.admin.token, { closed_dates: [...dates].reverse() });
      assert.deepEqual(r.closed_dates, dates);
      assert.equal(r.open_now, true, "dates in 2030 do not close today");
    });

    test("location at the ends of its ranges; null clears it", async () => {
      assert.deepEqual((await setRestaurant(server, demo.admin.token, { location: { lat: 90, lng: 180 } })).location, { lat: 90, lng: 180 });
      assert.deepEqual((await setRestaurant(server, demo.admin.token, { location: { lat: -90, lng: -180 } })).location, { lat: -90, lng: -180 });
      assert.deepEqual((await setRestaurant(server, demo.admin.token, { location: { lat: 37.5665, lng: 126.978 } })).location, { lat: 37.5665, lng: 126.978 });
      assert.equal((await setRestaurant(server, demo.admin.token, { location: null })).location, null);
    });

    test("paused_until in the future (any offset) pauses until then", async () => {
      const until = Date.now() + 2 * HOUR;
      // The same instant written with a +09:00 offset.
      const local = iso(until + SEOUL).replace("Z", "+09:00");
      const r = await setRestaurant(server, demo.admin.token, { paused_until: local });
      assert.equal(r.paused, true);
      assert.equal(r.paused_until, iso(until));
      assert.equal(r.paused_now, true);
      const resumed = await setRestaurant(server, demo.admin.token, { paused: false });
      assert.equal(resumed.paused, false);
      assert.equal(resumed.paused_until, null, "paused: false clears paused_until");
      assert.equal(resumed.paused_now, false);
    });
  });

  describe("what the settings do to orders", () => {
    beforeEach(reset);
    after(reset);

    test("closed by the hours: 409 restaurant_closed naming the next opening; null opens again", async () => {
      const c = await newCustomer(server);
      const now = Date.now();
      const tomorrow = startOfUtcDay(now) + DAY;
      const r = await setRestaurant(server, demo.admin.token, {
        timezone: "UTC",
        opening_hours: { [DAYS[new Date(tomorrow).getUTCDay()]]: [["10:00", "11:00"]] },
      });
      assert.equal(r.open_now, false);
      assert.equal(r.closes_at, null, "closes_at only while open");
      assert.equal(r.next_opening, iso(tomorrow + 10 * HOUR));
      assert.equal(r.paused_now, false);
      assert.equal(r.accepting_orders, false);
      assert.deepEqual(await readRestaurant(server), r);
      const refused = await tryOrder(server, c.token, itemId);
      const error = expectError(refused, 409, "restaurant_closed");
      assert.ok(error.message.includes(r.next_opening), `the message names the next opening: ${error.message}`);

      const closedAlways = await setRestaurant(server, demo.admin.token, { opening_hours: {} });
      assert.deepEqual(closedAlways.opening_hours, { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });
      assert.equal(closedAlways.open_now, false);
      assert.equal(closedAlways.next_opening, null);
      assert.equal(closedAlways.closes_at, null);
      assert.equal(closedAlways.accepting_orders, false);
      expectError(await tryOrder(server, c.token, itemId), 409, "restaurant_closed");

      const open = await setRestaurant(server, demo.admin.token, { opening_hours: null });
      assert.equal(open.opening_hours, null);
      assert.equal(open.open_now, true);
      assert.equal(open.accepting_orders, true);
      const placed = await tryOrder(server, c.token, itemId);
      expectStatus(placed, 201);
    });

    test("a closed date closes the day of an always-open restaurant; the next opening is tomorrow's midnight", async () => {
      const c = await newCustomer(server);
      const today = startOfUtcDay(Date.now());
      const r = await setRestaurant(server, demo.admin.token, { closed_dates: [isoDate(today)] });
      assert.equal(r.open_now, false);
      assert.equal(r.next_opening, iso(today + DAY));
      assert.equal(r.accepting_orders, false);
      expectError(await tryOrder(server, c.token, itemId), 409, "restaurant_closed");
      const other = await setRestaurant(server, demo.admin.token, { closed_dates: [isoDate(today + DAY)] });
      assert.equal(other.open_now, true);
      assert.equal(other.closes_at, iso(today + DAY), "open until the closed day starts");
      expectStatus(await tryOrder(server, c.token, itemId), 201);
    });

    test("the next opening is looked for within 31 days", async () => {
      const today = startOfUtcDay(Date.now());
      const every = Object.fromEntries(DAYS.map((d) => [d, [["10:00", "11:00"]]]));
      const closedBut = (k) => Array.from({ length: 45 }, (_, i) => isoDate(today + i * DAY)).filter((_, i) => i !== k);
      let r = await setRestaurant(server, demo.admin.token, { opening_hours: every, closed_dates: closedBut(30) });
      assert.equal(r.open_now, false);
      assert.equal(r.next_opening, iso(today + 30 * DAY + 10 * HOUR));
      r = await setRestaurant(server, demo.admin.token, { closed_dates: closedBut(32) });
      assert.equal(r.open_now, false);
      assert.equal(r.next_opening, null, "nothing within 31 days");
    });

    test("paused: 409 ordering_paused; an Idempotency-Key repeat still answers 200 with the same order", async () => {
      const c = await newCustomer(server);
      const key = `restaurant-pause-${Date.now()}`;
      const first = await tryOrder(server, c.token, itemId, { "idempotency-key": key });
      expectStatus(first, 201);

      const r = await setRestaurant(server, demo.admin.token, { paused: true });
      assert.equal(r.paused, true);
      assert.equal(r.paused_until, null);
      assert.equal(r.paused_now, true);
      assert.equal(r.open_now, true);
      assert.equal(r.accepting_orders, false);
      expectError(await tryOrder(server, c.token, itemId), 409, "ordering_paused");
      const repeat = await tryOrder(server, c.token, itemId, { "idempotency-key": key });
      expectStatus(repeat, 200, "a retry of a placed order");
      assert.equal(repeat.body.id, first.body.id);
      assert.deepEqual(repeat.body, first.body);
      // A new key while paused is refused and does not use up the key.
      const fresh = `${key}-new`;
      expectError(await tryOrder(server, c.token, itemId, { "idempotency-key": fresh }), 409, "ordering_paused");

      // Paused and closed: the pause is checked first.
      await setRestaurant(server, demo.admin.token, { opening_hours: {} });
      expectError(await tryOrder(server, c.token, itemId), 409, "ordering_paused");
      const repeatClosed = await tryOrder(server, c.token, itemId, { "idempotency-key": key });
      expectStatus(repeatClosed, 200);
      assert.equal(repeatClosed.body.id, first.body.id);

      const resumed = await setRestaurant(server, demo.admin.token, { paused: false, opening_hours: null });
      assert.equal(resumed.paused_now, false);
      assert.equal(resumed.accepting_orders, true);
      expectStatus(await tryOrder(server, c.token, itemId, { "idempotency-key": fresh }), 201, "the refused key is still free");
    });

    test("pause_minutes 15: paused_now with paused_until about 15 minutes ahead; paused false resumes", async () => {
      const c = await newCustomer(server);
      const t0 = Date.now();
      const r = await setRestaurant(server, demo.admin.token, { pause_minutes: 15 });
      const t1 = Date.now();
      assert.equal(r.paused, true);
      assert.equal(r.paused_now, true);
      assert.equal(r.accepting_orders, false);
      const until = Date.parse(r.paused_until);
      assert.ok(until >= t0 + 15 * MINUTE - 1000 && until <= t1 + 15 * MINUTE + 1000, r.paused_until);
      const error = expectError(await tryOrder(server, c.token, itemId), 409, "ordering_paused");
      assert.ok(error.message.includes(r.paused_until), `the message names the end: ${error.message}`);
      const resumed = await setRestaurant(server, demo.admin.token, { paused: false });
      assert.equal(resumed.paused, false);
      assert.equal(resumed.paused_until, null);
      assert.equal(resumed.paused_now, false);
      assert.equal(resumed.accepting_orders, true);
      expectStatus(await tryOrder(server, c.token, itemId), 201);
    });

    test("max_orders_per_15min N: the N+1th order within 15 minutes → 409 kitchen_full", async () => {
      const c = await newCustomer(server);
      const key = `restaurant-cap-${Date.now()}`;
      const keyed = await tryOrder(server, c.token, itemId, { "idempotency-key": key });
      expectStatus(keyed, 201);
      // Every order placed in the last 15 minutes counts, whatever its status now.
      const list = await get(server, "/api/orders?limit=200", { token: demo.admin.token });
      expectStatus(list, 200);
      assert.equal(list.body.next_before, null, "fewer than 200 orders on this server");
      const since = Date.now() - 15 * MINUTE + 30_000; // margin: none of these is older than 14 min
      const recent = list.body.orders.filter((o) => Date.parse(o.created_at) >= since).length;
      assert.equal(recent, list.body.orders.length, "every order of this server is recent");
      const cap = recent + 2;
      const r = await setRestaurant(server, demo.admin.token, { max_orders_per_15min: cap });
      assert.equal(r.max_orders_per_15min, cap);
      assert.equal(r.accepting_orders, true, "the cap is not part of accepting_orders");
      const a = await tryOrder(server, c.token, itemId);
      expectStatus(a, 201, `order ${recent + 1} of ${cap}`);
      const b = await tryOrder(server, c.token, itemId);
      expectStatus(b, 201, `order ${recent + 2} of ${cap}`);
      const full = expectError(await tryOrder(server, c.token, itemId), 409, "kitchen_full");
      assert.ok(full.message.includes(String(cap)), full.message);
      // A cancelled order still counts: it was placed.
      await moveOk(server, c.token, b.body.id, "cancelled");
      expectError(await tryOrder(server, c.token, itemId), 409, "kitchen_full");
      // A retry of a placed order is answered before the cap is checked.
      const repeat = await tryOrder(server, c.token, itemId, { "idempotency-key": key });
      expectStatus(repeat, 200);
      assert.equal(repeat.body.id, keyed.body.id);
      // Closed and full: closed is said first.
      await setRestaurant(server, demo.admin.token, { opening_hours: {} });
      expectError(await tryOrder(server, c.token, itemId), 409, "restaurant_closed");
      await setRestaurant(server, demo.admin.token, { opening_hours: null, max_orders_per_15min: cap + 1 });
      expectStatus(await tryOrder(server, c.token, itemId), 201, "a higher cap lets one more in");
      expectError(await tryOrder(server, c.token, itemId), 409, "kitchen_full");
      await setRestaurant(server, demo.admin.token, { max_orders_per_15min: null });
      expectStatus(await tryOrder(server, c.token, itemId), 201, "no cap");
    });

    test("max_orders_per_15min under 10 concurrent orders: exactly the cap gets in", async () => {
      const c = await newCustomer(server);
      const list = await get(server, "/api/orders?limit=200", { token: demo.admin.token });
      expectStatus(list, 200);
      assert.equal(list.body.next_before, null, "fewer than 200 orders on this server");
      const recent = list.body.orders.length; // every order of this server is recent (see above)
      await setRestaurant(server, demo.admin.token, { max_orders_per_15min: recent + 3 });
      const answers = await Promise.all(Array.from({ length: 10 }, () => tryOrder(server, c.token, itemId)));
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [201, 201, 201, 409, 409, 409, 409, 409, 409, 409], answers.map((a) => a.text).join("\n"));
      for (const a of answers.filter((x) => x.status === 409)) expectError(a, 409, "kitchen_full");
    });

    test("spans covering every day around the clock: open with no closing time", async () => {
      const every = Object.fromEntries(DAYS.map((d) => [d, [["00:00", "24:00"]]]));
      const r = await setRestaurant(server, demo.admin.token, { opening_hours: every });
      assert.equal(r.open_now, true);
      assert.equal(r.closes_at, null, "touching spans count as one");
      assert.equal(r.next_opening, null);
      const today = startOfUtcDay(Date.now());
      const closing = await setRestaurant(server, demo.admin.token, { closed_dates: [isoDate(today + 3 * DAY)] });
      assert.equal(closing.open_now, true);
      assert.equal(closing.closes_at, iso(today + 3 * DAY));
      assert.equal(closing.next_opening, iso(today + 4 * DAY));
    });

    test("busy mode: accepting with prep_minutes 15 while busy_extra_minutes is 20 stores 35", async () => {
      const c = await newCustomer(server);
      await setRestaurant(server, demo.admin.token, { busy_extra_minutes: 20 });
      const o = await placeOrder(server, c.token, { items: [{ item_id: itemId, quantity: 1 }] });
      const accepted = await moveOk(server, demo.admin.token, o.id, "accepted", { prep_minutes: 15 });
      assert.equal(accepted.prep_minutes, 35);
      const seen = await get(server, `/api/orders/${o.id}`, { token: c.token });
      expectStatus(seen, 200);
      assert.equal(seen.body.prep_minutes, 35, "the quote the customer sees");
      await setRestaurant(server, demo.admin.token, { busy_extra_minutes: 0 });
      const o2 = await placeOrder(server, c.token, { items: [{ item_id: itemId, quantity: 1 }] });
      assert.equal((await moveOk(server, demo.admin.token, o2.id, "accepted", { prep_minutes: 15 })).prep_minutes, 15);
    });
  });

  describe("GET /api/stats/today: the restaurant's local day", () => {
    beforeEach(reset);
    after(reset);

    async function stats() {
      const res = await get(server, "/api/stats/today", { token: demo.admin.token });
      expectStatus(res, 200);
      return res.body;
    }

    test("Asia/Seoul: from and to are local midnights (15:00Z), 24 h apart; an order placed now counts", async () => {
      await setRestaurant(server, demo.admin.token, { timezone: "Asia/Seoul" });
      const s = await stats();
      assert.deepEqual(Object.keys(s).sort(), ["avg_prep_minutes", "by_status", "from", "measured", "orders", "revenue_cents", "to"]);
      assert.match(s.from, /T15:00:00\.000Z$/);
      assert.match(s.to, /T15:00:00\.000Z$/);
      assert.equal(Date.parse(s.to) - Date.parse(s.from), DAY);
      const now = Date.now();
      assert.ok(Date.parse(s.from) <= now && now < Date.parse(s.to), `${s.from}..${s.to} holds now`);
      assert.equal(s.from, iso(localMidnight("Asia/Seoul", now)));

      const c = await newCustomer(server);
      const o = await placeOrder(server, c.token, { items: [{ item_id: itemId, quantity: 1 }] });
      const after = await stats();
      assert.equal(after.from, s.from);
      assert.equal(after.orders, s.orders + 1);
      assert.equal(after.revenue_cents, s.revenue_cents + o.total_cents);
      assert.equal(after.by_status.pending, (s.by_status.pending ?? 0) + 1);
      assert.ok(o.created_at >= after.from && o.created_at < after.to);
    });

    test("Europe/Amsterdam: from is 23:00Z (winter) or 22:00Z (summer) — local midnight", async () => {
      await setRestaurant(server, demo.admin.token, { timezone: "Europe/Amsterdam" });
      const s = await stats();
      const now = Date.now();
      const from = localMidnight("Europe/Amsterdam", now);
      const to = localMidnight("Europe/Amsterdam", from + 26 * HOUR);
      assert.match(s.from, /T(23|22):00:00\.000Z$/);
      assert.equal(s.from, iso(from));
      assert.equal(s.to, iso(to));
      assert.ok([23, 24, 25].includes((Date.parse(s.to) - Date.parse(s.from)) / HOUR));
      const c = await newCustomer(server);
      await placeOrder(server, c.token, { items: [{ item_id: itemId, quantity: 1 }] });
      assert.equal((await stats()).orders, s.orders + 1);
    });

    test("UTC (the default): the UTC day", async () => {
      const s = await stats();
      const today = startOfUtcDay(Date.now());
      assert.equal(s.from, iso(today));
      assert.equal(s.to, iso(today + DAY));
    });
  });
});

// ---------------------------------------------------------------------------------
// Opening hours in a time zone and across midnight, on a server whose clock the test moves.

describe("opening hours in a time zone, across midnight (--test-clock)", () => {
  let server;
  let demo;
  let itemId;
  let customer;
  before(async () => {
    server = await startServer({ args: ["--test-clock"] });
    demo = await demoSessions(server);
    itemId = await firstItemId(server);
    customer = await newCustomer(server);
  });
  after(async () => {
    await server?.stop();
  });

  test("Asia/Seoul: open now by the local hours, closed 3 hours later; the same hours in UTC are another time", async () => {
    const now = await serverNow(server);
    const local = now + SEOUL;
    const h = new Date(local).getUTCHours();
    const weekday = DAYS[new Date(local).getUTCDay()];
    const endHour = h + 2;
    const end = endHour === 24 ? "24:00" : hh(endHour % 24); // 25 → "01:00": passes midnight
    const hourStart = Math.floor(now / HOUR) * HOUR; // Seoul's offset is whole hours
    const opened = await setRestaurant(server, demo.admin.token, {
      timezone: "Asia/Seoul",
      opening_hours: { [weekday]: [[hh(h), end]] },
    });
    assert.equal(opened.open_now, true, `local ${iso(local)} is inside ${weekday} ${hh(h)}-${end}`);
    assert.equal(opened.accepting_orders, true);
    assert.equal(opened.closes_at, iso(hourStart + 2 * HOUR));
    assert.equal(opened.next_opening, iso(hourStart + 7 * DAY), "the same span next week");
    expectStatus(await tryOrder(server, customer.token, itemId), 201);

    // The same hours read in UTC: that span starts 9 hours from this hour.
    const inUtc = await setRestaurant(server, demo.admin.token, { timezone: "UTC" });
    assert.equal(inUtc.open_now, false);
    assert.equal(inUtc.next_opening, iso(hourStart + 9 * HOUR));
    await setRestaurant(server, demo.admin.token, { timezone: "Asia/Seoul" });

    await server.advanceClock(3 * HOUR);
    const later = await readRestaurant(server);
    assert.equal(later.open_now, false);
    assert.equal(later.accepting_orders, false);
    assert.equal(later.closes_at, null);
    assert.equal(later.next_opening, iso(hourStart + 7 * DAY));
    const refused = expectError(await tryOrder(server, customer.token, itemId), 409, "restaurant_closed");
    assert.ok(refused.message.includes(later.next_opening), refused.message);
  });

  test("a span passing midnight (22:00-02:00) covers local 01:30 of the next day; closed dates close spans that start on them", async () => {
    // Move the clock to the next local 01:30 in Seoul.
    let now = await serverNow(server);
    let local = now + SEOUL;
    let target = startOfUtcDay(local) + 90 * MINUTE;
    if (target <= local) target += DAY;
    await server.advanceClock(target - local);
    now = await serverNow(server);
    local = now + SEOUL;
    assert.equal(new Date(local).getUTCHours(), 1, `local time is ${iso(local)} (Seoul, written as Z)`);
    const day = startOfUtcDay(local); // local midnight of today, as if it were UTC
    const toUtc = (localMs) => localMs - SEOUL;
    const today = DAYS[new Date(day).getUTCDay()];
    const yesterday = DAYS[new Date(day - DAY).getUTCDay()];

    const open = await setRestaurant(server, demo.admin.token, {
      timezone: "Asia/Seoul",
      closed_dates: [],
      opening_hours: { [yesterday]: [["22:00", "02:00"]] },
    });
    assert.deepEqual(open.opening_hours[yesterday], [["22:00", "02:00"]]);
    assert.equal(open.open_now, true, `yesterday's (${yesterday}) span still runs at 01:30`);
    assert.equal(open.accepting_orders, true);
    assert.equal(open.closes_at, iso(toUtc(day + 2 * HOUR)));
    assert.equal(open.next_opening, iso(toUtc(day - DAY + 7 * DAY + 22 * HOUR)));
    expectStatus(await tryOrder(server, customer.token, itemId), 201);

    // A closed date today does not close the span that started yesterday...
    const closedToday = await setRestaurant(server, demo.admin.token, { closed_dates: [isoDate(day)] });
    assert.equal(closedToday.open_now, true);
    // ...a closed date yesterday does.
    const closedYesterday = await setRestaurant(server, demo.admin.token, { closed_dates: [isoDate(day - DAY)] });
    assert.equal(closedYesterday.open_now, false);
    assert.equal(closedYesterday.next_opening, iso(toUtc(day - DAY + 7 * DAY + 22 * HOUR)));
    expectError(await tryOrder(server, customer.token, itemId), 409, "restaurant_closed");

    // The same span on today's weekday opens tonight, not at 01:30 this morning.
    const tonight = await setRestaurant(server, demo.admin.token, {
      closed_dates: [],
      opening_hours: { [today]: [["22:00", "02:00"]] },
    });
    assert.equal(tonight.open_now, false);
    assert.equal(tonight.next_opening, iso(toUtc(day + 22 * HOUR)));

    // Back to yesterday's span; an hour later (02:30) it has closed.
    await setRestaurant(server, demo.admin.token, { opening_hours: { [yesterday]: [["22:00", "02:00"]] } });
    await server.advanceClock(HOUR);
    const closed = await readRestaurant(server);
    assert.equal(closed.open_now, false);
    assert.equal(closed.closes_at, null);
    assert.equal(closed.accepting_orders, false);
    assert.equal(closed.next_opening, iso(toUtc(day - DAY + 7 * DAY + 22 * HOUR)));
    expectError(await tryOrder(server, customer.token, itemId), 409, "restaurant_closed");

    // Spans that touch count as one: 22:00-24:00 yesterday and 00:00-02:00 today.
    const touching = await setRestaurant(server, demo.admin.token, {
      opening_hours: { [yesterday]: [["22:00", "24:00"]], [today]: [["00:00", "02:00"], ["02:30", "04:00"]] },
    });
    assert.equal(touching.open_now, true, "02:30-04:00 today");
    assert.equal(touching.closes_at, iso(toUtc(day + 4 * HOUR)));
    assert.equal(touching.next_opening, iso(toUtc(day - DAY + 7 * DAY + 22 * HOUR)));
  });
});

// ---------------------------------------------------------------------------------
// The day the clocks change in Europe/Amsterdam: a 23- or 25-hour day (--test-clock).

describe("a day the clocks change (--test-clock)", () => {
  let server;
  before(async () => {
    server = await startServer({ args: ["--test-clock"] });
  });
  after(async () => {
    await server?.stop();
  });

  test("GET /api/stats/today in Europe/Amsterdam spans the 23 or 25 hours of that local day", async () => {
    const admin0 = (await demoSessions(server)).admin;
    await setRestaurant(server, admin0.token, { timezone: "Europe/Amsterdam" });
    // The next day whose local midnights are not 24 hours apart (March or October).
    const now = await serverNow(server);
    let day = null;
    for (let d = 1; d <= 370 && day === null; ++d) {
      const noon = startOfUtcDay(now) + d * DAY + 12 * HOUR;
      const from = localMidnight("Europe/Amsterdam", noon);
      const to = localMidnight("Europe/Amsterdam", from + 26 * HOUR);
      if (to - from !== DAY) day = { noon, from, to };
    }
    assert.ok(day, "a clock change within a year");
    await server.advanceClock(day.noon - now);
    // Tokens last 30 days; sign in again at the new time.
    const { admin } = await demoSessions(server);
    const res = await get(server, "/api/stats/today", { token: admin.token });
    expectStatus(res, 200);
    assert.equal(res.body.from, iso(day.from));
    assert.equal(res.body.to, iso(day.to));
    const hours = (day.to - day.from) / HOUR;
    assert.ok(hours === 23 || hours === 25, `${hours} hours`);
    const r = await readRestaurant(server);
    assert.equal(r.open_now, true, "open around the clock on that day too");
  });
});

// ---------------------------------------------------------------------------------
// Unanswered orders and pauses that end, on a server whose clock the test moves.

describe("unanswered orders and the end of a pause (--test-clock)", () => {
  let server;
  let demo;
  let itemId;
  let customer;
  before(async () => {
    server = await startServer({ args: ["--test-clock"] });
    demo = await demoSessions(server);
    itemId = await firstItemId(server);
    customer = await newCustomer(server);
  });
  after(async () => {
    await server?.stop();
  });

  const order = async (id) => {
    const res = await get(server, `/api/orders/${id}`, { token: demo.admin.token });
    expectStatus(res, 200);
    return res.body;
  };
  const notAnsweredCount = async () => {
    const res = await get(server, "/metrics", { token: demo.admin.token });
    expectStatus(res, 200);
    const m = res.text.match(/^brigade_orders_not_answered_total (\d+)$/m);
    assert.ok(m, "brigade_orders_not_answered_total is exported");
    return Number(m[1]);
  };

  test("auto_reject_after_s 60: pending at 59 s, rejected by the server after 61 s; accepted orders stay", async () => {
    await setRestaurant(server, demo.admin.token, { auto_reject_after_s: 60 });
    const metricBefore = await notAnsweredCount();
    const a = await placeOrder(server, customer.token, { items: [{ item_id: itemId, quantity: 1 }] });
    const b = await placeOrder(server, customer.token, { items: [{ item_id: itemId, quantity: 1 }] });
    await server.advanceClock(59_000);
    assert.equal((await order(a.id)).status, "pending", "not yet due");
    assert.equal((await order(b.id)).status, "pending");
    const acceptedB = await moveOk(server, demo.admin.token, b.id, "accepted", { prep_minutes: 10 });
    await server.advanceClock(2_000);
    const rejected = await order(a.id);
    assert.equal(rejected.status, "rejected");
    assert.equal(rejected.status_reason, "not_answered");
    assert.equal(rejected.version, a.version + 1);
    assert.equal(rejected.history.length, 2);
    const last = rejected.history.at(-1);
    assert.equal(last.status, "rejected");
    assert.equal(last.by, null, "rejected by the server");
    const stillB = await order(b.id);
    assert.equal(stillB.status, "accepted");
    assert.equal(stillB.version, acceptedB.version);
    assert.equal(await notAnsweredCount(), metricBefore + 1);
    // The customer sees it too.
    const mine = await get(server, `/api/orders/${a.id}`, { token: customer.token });
    expectStatus(mine, 200);
    assert.equal(mine.body.status_reason, "not_answered");
    // Another pass later changes nothing more.
    await server.advanceClock(5_000);
    assert.deepEqual(await order(a.id), rejected);
    // Without pause_on_auto_reject, ordering goes on.
    const r = await readRestaurant(server);
    assert.equal(r.paused, false);
    assert.equal(r.accepting_orders, true);
  });

  test("pause_on_auto_reject: an automatic rejection pauses ordering until someone resumes it", async () => {
    await setRestaurant(server, demo.admin.token, { auto_reject_after_s: 60, pause_on_auto_reject: true });
    const c = await placeOrder(server, customer.token, { items: [{ item_id: itemId, quantity: 1 }] });
    await server.advanceClock(61_000);
    const rejected = await order(c.id);
    assert.equal(rejected.status, "rejected");
    assert.equal(rejected.status_reason, "not_answered");
    const r = await readRestaurant(server);
    assert.equal(r.paused, true);
    assert.equal(r.paused_until, null, "until a person looks");
    assert.equal(r.paused_now, true);
    assert.equal(r.accepting_orders, false);
    expectError(await tryOrder(server, customer.token, itemId), 409, "ordering_paused");
    // It does not end by itself.
    await server.advanceClock(2 * HOUR);
    assert.equal((await readRestaurant(server)).paused, true);
    const resumed = await setRestaurant(server, demo.admin.token, { paused: false, pause_on_auto_reject: false, auto_reject_after_s: null });
    assert.equal(resumed.accepting_orders, true);
    expectStatus(await tryOrder(server, customer.token, itemId), 201);
  });

  test("pause_minutes 15: still paused after 14 minutes, ended by the server after 15", async () => {
    const paused = await setRestaurant(server, demo.admin.token, { pause_minutes: 15 });
    assert.equal(paused.paused, true);
    const version = paused.version;
    await server.advanceClock(14 * MINUTE);
    const during = await readRestaurant(server);
    assert.equal(during.paused, true);
    assert.equal(during.paused_now, true);
    expectError(await tryOrder(server, customer.token, itemId), 409, "ordering_paused");
    await server.advanceClock(MINUTE + 1000);
    const ended = await readRestaurant(server);
    assert.equal(ended.paused, false, "the server ended the pause");
    assert.equal(ended.paused_until, null);
    assert.equal(ended.paused_now, false);
    assert.equal(ended.accepting_orders, true);
    assert.equal(ended.version, version + 1, "ending it is a change");
    expectStatus(await tryOrder(server, customer.token, itemId), 201);
  });
});

// ---------------------------------------------------------------------------------
// An order that falls due across a restart is rejected once.

describe("auto-rejection across a restart", () => {
  let server;
  after(async () => {
    await server?.stop();
  });

  test("an order pending before a restart is rejected after it, exactly once", async () => {
    server = await startServer({ args: ["--test-clock"] });
    const demo = await demoSessions(server);
    const itemId = await firstItemId(server);
    await setRestaurant(server, demo.admin.token, { auto_reject_after_s: 30 });
    const placed = await placeOrder(server, demo.customer.token, { items: [{ item_id: itemId, quantity: 1 }] });
    const { code, signal } = await server.stop();
    assert.ok(code === 0 || signal === "SIGTERM", `stopped cleanly (code ${code}, signal ${signal})`);
    server = await server.restart(["--test-clock"]);
    // The settings and the tokens survived the restart.
    assert.equal((await readRestaurant(server)).auto_reject_after_s, 30);
    const pending = await get(server, `/api/orders/${placed.id}`, { token: demo.admin.token });
    expectStatus(pending, 200);
    assert.equal(pending.body.status, "pending");
    await server.advanceClock(31_000);
    const res = await get(server, `/api/orders/${placed.id}`, { token: demo.admin.token });
    expectStatus(res, 200);
    assert.equal(res.body.status, "rejected");
    assert.equal(res.body.status_reason, "not_answered");
    assert.equal(res.body.history.filter((h) => h.status === "rejected").length, 1);
    assert.equal(res.body.history.at(-1).by, null);
    await server.advanceClock(31_000);
    const later = await get(server, `/api/orders/${placed.id}`, { token: demo.admin.token });
    assert.deepEqual(later.body, res.body, "rejected once");
  });
});

describe("the street map's tiles", () => {
  let server;
  let demo;
  before(async () => {
    server = await startServer();
    demo = await demoSessions(server);
  });
  after(async () => {
    await server?.stop();
  });

  test("OpenStreetMap's by default with its attribution; another https template, or none", async () => {
    const r = (await get(server, "/api/restaurant")).body;
    assert.equal(r.map_tile_url, "https://tile.openstreetmap.org/{z}/{x}/{y}.png");
    assert.equal(r.map_attribution, "© OpenStreetMap contributors");
    const other = await patch(server, "/api/restaurant", { map_tile_url: "https://tiles.example/{z}/{x}/{y}.png", map_attribution: "Example" }, { token: demo.admin.token });
    expectStatus(other, 200);
    assert.equal(other.body.map_tile_url, "https://tiles.example/{z}/{x}/{y}.png");
    const none = await patch(server, "/api/restaurant", { map_tile_url: "" }, { token: demo.admin.token });
    expectStatus(none, 200);
    assert.equal(none.body.map_tile_url, "", "the plain grid");
  });
});
