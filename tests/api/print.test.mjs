// `brigade print` (src/server/print_command.{hpp,cpp}, src/app/ticket.cpp): the kitchen
// ticket follower. A fake network printer (raw TCP, ESC/POS, answering the real-time
// status request DLE EOT 1 with one byte) receives the tickets; the tests check that
// only acceptances print, in acceptance order, with the order's lines, options, notes
// and allergens; that a first start does not print the past; that after kill -9 with a
// ticket in flight only that ticket prints again, marked REPRINT; that a printer that
// refuses connections is retried and gets every ticket once, in order; that a state
// file of another database or a malformed one is refused (exit 2); and that SIGTERM
// exits 0 with the state saved.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { within } from "../lib/server.mjs";
import {
  assign,
  demoSessions,
  expectStatus,
  get,
  moveOk,
  newCustomer,
  newRider,
  placeOrder,
  post,
  serverBinary,
  startServer,
} from "./lib/server.mjs";

// src/server/print_command.hpp: a refused connection is retried after 250 ms, then
// doubling up to kMaxPrinterBackoff (5 s); the change stream is polled every 200 ms.
const kMaxPrinterBackoff = 5000;
const WAIT = 20000; // every wait for the print process (several poll intervals and backoffs)

const ESC = 0x1b;
const GS = 0x1d;
const DLE = 0x10;
const EOT = 0x04;
const STATUS_REQUEST = Buffer.from([DLE, EOT, 0x01]);
const STATUS_ANSWER = Buffer.from([0x12]); // online, drawer closed, no error

// ---------------------------------------------------------------------------------
// The fake printer.

// ESC/POS bytes → the printed text: ESC @, ESC E n, GS ! n, GS V A n and DLE EOT n are
// dropped, printable ASCII and newlines kept; anything else is counted as `unknown`.
function decodeEscPos(bytes) {
  let text = "";
  let unknown = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b === ESC && bytes[i + 1] === 0x40) i += 2; // ESC @
    else if (b === ESC && bytes[i + 1] === 0x45) i += 3; // ESC E n
    else if (b === GS && bytes[i + 1] === 0x21) i += 3; // GS ! n
    else if (b === GS && bytes[i + 1] === 0x56 && bytes[i + 2] === 0x41) i += 4; // GS V A n
    else if (b === DLE && bytes[i + 1] === EOT) i += 3; // DLE EOT n
    else {
      if ((b >= 0x20 && b < 0x7f) || b === 0x0a) text += String.fromCharCode(b);
      else unknown += 1;
      i += 1;
    }
  }
  return { text, unknown };
}

// A network receipt printer on 127.0.0.1. Modes:
//   "normal": answers each status request with one byte;
//   "stall":  accepts and reads, never answers (the ticket is received, not taken);
//   "refuse": not listening (connections are refused); back to another mode listens
//             again on the same port.
// `tickets`: every ticket received, in order: {text, lines, raw, answered, conn}.
class FakePrinter extends EventEmitter {
  tickets = [];
  connections = 0;
  mode = "normal";
  port = 0;
  #server = null;
  #sockets = new Set();

  async start(port = 0) {
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    this.port = server.address().port;
    return this;
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  #accept(socket) {
    this.connections += 1;
    const conn = this.connections;
    this.#sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let end;
      while ((end = buffer.indexOf(STATUS_REQUEST)) >= 0) {
        const raw = buffer.subarray(0, end + STATUS_REQUEST.length);
        buffer = buffer.subarray(end + STATUS_REQUEST.length);
        const { text, unknown } = decodeEscPos(raw);
        const answered = this.mode === "normal";
        const ticket = { text, lines: text.split("\n"), raw, unknown, answered, conn };
        this.tickets.push(ticket);
        if (answered) socket.write(STATUS_ANSWER);
        this.emit("ticket", ticket);
      }
    });
    socket.on("error", () => {}); // the print process killed mid-ticket: a reset
    socket.on("close", () => {
      this.#sockets.delete(socket);
      this.emit("closed", conn);
    });
  }

  async setMode(mode) {
    if (mode === "refuse") {
      await this.#closeListener();
    } else if (!this.#server) {
      await this.start(this.port);
    }
    this.mode = mode;
  }

  async #closeListener() {
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise((resolve) => server.close(() => resolve()));
  }

  // Resolves once `count` tickets were received in all (bounded).
  waitForTickets(count, what = `${count} tickets`, ms = WAIT) {
    return within(
      ms,
      new Promise((resolve) => {
        const check = () => {
          if (this.tickets.length >= count) {
            this.off("ticket", check);
            resolve(this.tickets.slice());
          }
        };
        this.on("ticket", check);
        check();
      }),
      `${what} at the fake printer (received: ${JSON.stringify(this.tickets.map((t) => t.lines[0]))})`,
    );
  }

  async stop() {
    for (const socket of this.#sockets) socket.destroy();
    await this.#closeListener();
  }
}

// A ticket's order id, from its "ORDER #<id>" line.
function orderIdOf(ticket) {
  const line = ticket.lines.find((l) => l.startsWith("ORDER #"));
  assert.ok(line, `ticket has an ORDER line:\n${ticket.text}`);
  return Number(line.slice("ORDER #".length));
}
const isReprint = (ticket) => ticket.lines[0] === "*** REPRINT ***";

// ---------------------------------------------------------------------------------
// `brigade print` processes.

const printProcesses = new Set();
const stateDir = mkdtempSync(path.join(os.tmpdir(), "brigade-print-test-"));
process.on("exit", () => rmSync(stateDir, { recursive: true, force: true }));
let stateFiles = 0;
const newStatePath = () => path.join(stateDir, `print-${++stateFiles}.state`);
const readState = (p) => JSON.parse(readFileSync(p, "utf8"));

let server;

// Spawns `brigade print` on the server's database. Returns
// { child, exited, stdoutLines, stderr(), waitForStdout(re), waitForStderr(re), stop(signal) }.
function startPrint(printerAddress, statePath) {
  const source = server.db ? ["--db", server.db] : ["--data-dir", server.dataDir];
  const child = spawn(serverBinary(), ["print", "--printer", printerAddress, "--state", statePath, ...source], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events = new EventEmitter();
  const proc = { child, stdoutLines: [], stderrText: "" };
  printProcesses.add(proc);
  let partial = "";
  child.stdout.on("data", (chunk) => {
    partial += chunk.toString();
    let nl;
    while ((nl = partial.indexOf("\n")) >= 0) {
      proc.stdoutLines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    events.emit("output");
  });
  child.stderr.on("data", (chunk) => {
    proc.stderrText += chunk.toString();
    events.emit("output");
  });
  proc.exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      printProcesses.delete(proc);
      // Let the pipes drain before the exit is reported.
      let open = 2;
      const done = () => {
        if (--open === 0) resolve({ code, signal });
      };
      if (child.stdout.readableEnded) done();
      else child.stdout.once("end", done);
      if (child.stderr.readableEnded) done();
      else child.stderr.once("end", done);
    });
  });
  const describeOutput = () => `stdout:\n${proc.stdoutLines.join("\n")}\nstderr:\n${proc.stderrText}`;
  const waitFor = (test, what, ms) =>
    within(
      ms,
      new Promise((resolve, reject) => {
        const check = () => {
          const found = test();
          if (found) {
            events.off("output", check);
            resolve(found);
          }
        };
        events.on("output", check);
        proc.exited.then(({ code, signal }) => {
          const found = test();
          if (found) resolve(found);
          else reject(new Error(`brigade print exited (code ${code}, signal ${signal}) before ${what}\n${describeOutput()}`));
        });
        check();
      }),
      `${what}\n${describeOutput()}`,
    );
  // The first stdout line matching `re` (its match).
  proc.waitForStdout = (re, ms = WAIT) =>
    waitFor(() => proc.stdoutLines.map((l) => l.match(re)).find(Boolean), `stdout ${re}`, ms);
  proc.waitForStderr = (re, ms = WAIT) => waitFor(() => proc.stderrText.match(re), `stderr ${re}`, ms);
  proc.stop = async (signal = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return within(10000, proc.exited, `brigade print to exit on ${signal}`);
  };
  return proc;
}

// Starts `brigade print` and waits for its "following from seq N" line; returns N too.
async function startFollowing(printer, statePath) {
  const proc = startPrint(printer.address, statePath);
  const m = await proc.waitForStdout(/^brigade print: following from seq (\d+) to (\S+)$/);
  assert.equal(m[2], printer.address);
  proc.startSeq = Number(m[1]);
  return proc;
}

// The seq of "printed order #<id> seq <seq>" (waits for it).
async function printedSeq(proc, orderId, { reprint = false } = {}) {
  const m = await proc.waitForStdout(new RegExp(`^printed order #${orderId}${reprint ? " \\(REPRINT\\)" : ""} seq (\\d+)$`));
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------

let admin;
let customer;
let plainItem;
let burger; // an item with option groups and allergens (created in the first test)
const printers = [];

async function newPrinter() {
  const printer = await new FakePrinter().start();
  printers.push(printer);
  return printer;
}

before(async () => {
  server = await startServer();
  ({ admin } = await demoSessions(server));
  customer = await newCustomer(server, "Ticket Customer");
  const menu = (await get(server, "/api/menu")).body;
  plainItem = menu.categories.flatMap((c) => c.items).find((i) => i.available && i.option_groups.length === 0);
  assert.ok(plainItem, "a plain available item in the demo menu");
});

after(async () => {
  for (const proc of [...printProcesses]) proc.child.kill("SIGKILL");
  for (const printer of printers) await printer.stop();
  await server?.stop();
});

const accept = (orderId, prep = 15) => moveOk(server, admin.token, orderId, "accepted", { prep_minutes: prep });
const plainOrder = (notes) =>
  placeOrder(server, customer.token, { items: [{ item_id: plainItem.id, quantity: 1 }], ...(notes ? { notes } : {}) });

describe("brigade print", { concurrency: false }, () => {
  test("prints a ticket for each acceptance only, in acceptance order, with lines, options, notes and allergens", async () => {
    // Accepted before the print station's first start: not printed.
    const past = await plainOrder("before the station existed");
    await accept(past.id);
    const headBefore = (await get(server, "/healthz")).body.last_seq;

    const printer = await newPrinter();
    const statePath = newStatePath();
    const proc = await startFollowing(printer, statePath);
    assert.ok(proc.startSeq >= headBefore, `a first start begins at the head (${proc.startSeq} >= ${headBefore})`);
    const firstState = readState(statePath);
    assert.equal(firstState.epoch, (await get(server, "/healthz")).body.epoch, "the state names the stream's epoch");
    assert.equal(firstState.in_flight, null);

    // An item with options and allergens, created while the station runs (its allergens
    // reach the station through the change stream).
    const created = await post(
      server,
      "/api/menu/items",
      {
        category_id: plainItem.category_id,
        name: "Ticket Burger",
        price_cents: 1000,
        allergens: ["gluten", "milk"],
        option_groups: [
          { name: "Size", min: 1, max: 1, options: [{ name: "Regular" }, { name: "Large", price_cents: 200 }] },
          { name: "Remove", min: 0, max: 2, options: [{ name: "No onion" }, { name: "No pickles" }] },
        ],
      },
      { token: admin.token },
    );
    expectStatus(created, 201, "create the burger");
    burger = created.body;
    const opt = (group, name) => burger.option_groups.find((g) => g.name === group).options.find((o) => o.name === name).id;

    const a = await placeOrder(server, customer.token, {
      items: [
        { item_id: burger.id, quantity: 2, notes: "well done", options: [opt("Size", "Large"), opt("Remove", "No onion")] },
        { item_id: plainItem.id, quantity: 3 },
      ],
      notes: "ring the bell",
    });
    const b = await plainOrder();
    const c = await plainOrder("side door");

    // Acceptance order C then A (not id order); B is rejected.
    await accept(c.id, 10);
    await moveOk(server, admin.token, b.id, "rejected", { reason: "closed" });
    await accept(a.id, 25);
    const [first, second] = await printer.waitForTickets(2, "the tickets of C and A");
    assert.deepEqual([orderIdOf(first), orderIdOf(second)], [c.id, a.id], "acceptance order");
    const seqC = await printedSeq(proc, c.id);
    const seqA = await printedSeq(proc, a.id);
    assert.ok(seqC < seqA);

    // The ticket of A: its lines, as src/app/ticket.cpp lays them out.
    const lines = second.lines;
    assert.ok(!isReprint(second), "not a reprint");
    assert.equal(lines[0], `ORDER #${a.id}`);
    assert.match(lines[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d$/, "the acceptance time (minutes)");
    assert.equal(lines[2], "Ready in 25 min");
    assert.match(lines[3], /^-+$/);
    const body = lines.slice(4, lines.indexOf(lines[3], 4));
    assert.deepEqual(body, [
      "2 x Ticket Burger",
      "   > Large",
      "   > No onion",
      "   NOTE: well done",
      "   ALLERGENS: gluten, milk",
      `3 x ${plainItem.name}`,
      ...(plainItem.allergens.length ? [`   ALLERGENS: ${plainItem.allergens.join(", ")}`] : []),
    ]);
    assert.ok(lines.includes("NOTE: ring the bell"), "the order's note");
    assert.equal(second.unknown, 0, "nothing but text and the known ESC/POS commands");
    // ESC/POS framing: ESC @ first, the ORDER line in bold double size, cut, status request.
    const raw = second.raw;
    assert.deepEqual([...raw.subarray(0, 2)], [ESC, 0x40], "ESC @ initialises");
    const orderAt = raw.indexOf(`ORDER #${a.id}`);
    assert.deepEqual([...raw.subarray(orderAt - 6, orderAt)], [ESC, 0x45, 1, GS, 0x21, 0x11], "bold, double size");
    const tail = [...raw.subarray(raw.length - 7)];
    assert.deepEqual(tail, [GS, 0x56, 0x41, 3, DLE, EOT, 1], "cut, then the status request");

    // The ticket of C: the plain item, the order's note.
    assert.equal(first.lines[0], `ORDER #${c.id}`);
    assert.equal(first.lines[2], "Ready in 10 min");
    assert.ok(first.lines.includes(`1 x ${plainItem.name}`));
    assert.ok(first.lines.includes("NOTE: side door"));
    assert.ok(!first.lines.some((l) => l.startsWith("   > ")), "no options on C");

    // A later change of an accepted order (a rider assigned) prints nothing: a sentinel
    // acceptance after it is the next ticket.
    const rider = await newRider(server, admin.token);
    expectStatus(await assign(server, admin.token, a.id, rider.user.id), 200, "assign");
    await moveOk(server, admin.token, c.id, "preparing");
    const sentinel = await plainOrder();
    await accept(sentinel.id);
    const all = await printer.waitForTickets(3, "the sentinel's ticket");
    assert.deepEqual(
      all.map(orderIdOf),
      [c.id, a.id, sentinel.id],
      "exactly one ticket per acceptance: none for the order accepted before the first start, the rejected one, the assignment or preparing",
    );
    assert.ok(all.every((t) => t.answered && !isReprint(t)));
    assert.ok(!all.some((t) => orderIdOf(t) === past.id || orderIdOf(t) === b.id));
    assert.equal(printer.connections, 3, "one connection per ticket");
    assert.equal(proc.stderrText, "", "no errors");

    const { code, signal } = await proc.stop();
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });

  test("kill -9 with a ticket in flight: only that ticket prints again, marked REPRINT", async () => {
    assert.ok(burger, "the first test created the burger");
    const printer = await newPrinter();
    const statePath = newStatePath();
    let proc = await startFollowing(printer, statePath);

    // One ticket taken normally before the crash: it must not print again.
    const before = await plainOrder();
    await accept(before.id);
    await printer.waitForTickets(1, "the ticket before the crash");
    const seqBefore = await printedSeq(proc, before.id);

    // The printer stalls: it reads the ticket, never answers the status request.
    await printer.setMode("stall");
    const regular = burger.option_groups.find((g) => g.name === "Size").options.find((o) => o.name === "Regular").id;
    const inFlight = await placeOrder(server, customer.token, {
      items: [{ item_id: burger.id, quantity: 1, notes: "no salt", options: [regular] }],
    });
    await accept(inFlight.id);
    const [, stalled] = await printer.waitForTickets(2, "the in-flight ticket's bytes");
    assert.equal(orderIdOf(stalled), inFlight.id);
    assert.equal(stalled.answered, false);
    assert.ok(!isReprint(stalled));
    const closed = new Promise((resolve) => {
      const onClose = (conn) => {
        if (conn !== stalled.conn) return;
        printer.off("closed", onClose);
        resolve();
      };
      printer.on("closed", onClose);
    });
    const { signal } = await proc.stop("SIGKILL");
    assert.equal(signal, "SIGKILL");
    await within(5000, closed, "the stalled connection to close");
    assert.ok(!proc.stdoutLines.some((l) => l.startsWith(`printed order #${inFlight.id} `)), "not counted as printed");

    const crashed = readState(statePath);
    assert.equal(typeof crashed.in_flight, "number", `in_flight is set: ${JSON.stringify(crashed)}`);
    assert.ok(crashed.seq >= seqBefore && crashed.seq < crashed.in_flight, JSON.stringify(crashed));

    // Two more acceptances while the station is down.
    const next1 = await plainOrder();
    const next2 = await plainOrder();
    await accept(next1.id);
    await accept(next2.id);

    await printer.setMode("normal");
    proc = await startFollowing(printer, statePath);
    assert.equal(proc.startSeq, crashed.seq, "resumes from the saved position");
    const tickets = await printer.waitForTickets(5, "the reprint and the two later tickets");
    const afterRestart = tickets.slice(2);
    assert.deepEqual(afterRestart.map(orderIdOf), [inFlight.id, next1.id, next2.id], "in order, the past not printed again");
    assert.ok(isReprint(afterRestart[0]), `the in-flight ticket is marked REPRINT:\n${afterRestart[0].text}`);
    assert.equal(afterRestart[0].lines[1], `ORDER #${inFlight.id}`);
    // The reprint is the same ticket (its allergens come from the menu read at start).
    assert.deepEqual(afterRestart[0].lines.slice(1), stalled.lines);
    assert.ok(afterRestart[0].lines.includes("   ALLERGENS: gluten, milk"));
    assert.ok(afterRestart[0].lines.includes("   > Regular"));
    assert.ok(afterRestart[0].lines.includes("   NOTE: no salt"));
    assert.ok(!isReprint(afterRestart[1]) && !isReprint(afterRestart[2]), "the later tickets are not reprints");
    assert.ok(afterRestart.every((t) => t.answered));

    const reprintSeq = await printedSeq(proc, inFlight.id, { reprint: true });
    assert.equal(reprintSeq, crashed.in_flight, "the in-flight seq is the acceptance's");
    const seq1 = await printedSeq(proc, next1.id);
    const seq2 = await printedSeq(proc, next2.id);
    assert.ok(reprintSeq < seq1 && seq1 < seq2);
    assert.equal(proc.stdoutLines.filter((l) => l.startsWith("printed order #")).length, 3);
    assert.ok(!proc.stdoutLines.some((l) => l.startsWith(`printed order #${before.id} `)));
    const { code } = await proc.stop();
    assert.equal(code, 0);
    assert.equal(printer.tickets.length, 5, "nothing more arrived");
  });

  test("a printer that refuses connections is retried; the tickets wait and arrive once each, in order", async () => {
    const printer = await newPrinter();
    const port = printer.port;
    const statePath = newStatePath();
    const proc = await startFollowing(printer, statePath);

    await printer.setMode("refuse");
    const first = await plainOrder();
    const second = await plainOrder();
    await accept(first.id);
    await accept(second.id);
    await proc.waitForStderr(new RegExp(`order #${first.id}: .*; retrying`));
    assert.equal(printer.tickets.length, 0);
    const waiting = readState(statePath);
    assert.equal(typeof waiting.in_flight, "number", "the first ticket is in flight while it is retried");
    assert.ok(!proc.stderrText.includes(`order #${second.id}`), "the second waits behind the first");

    await printer.setMode("normal");
    assert.equal(printer.port, port, "listening again on the same port");
    // Backoff: 250 ms doubling to kMaxPrinterBackoff.
    const tickets = await printer.waitForTickets(2, "both tickets", WAIT + kMaxPrinterBackoff);
    assert.deepEqual(tickets.map(orderIdOf), [first.id, second.id]);
    assert.ok(tickets.every((t) => !isReprint(t)), "nothing had been written: not reprints");
    const seq1 = await printedSeq(proc, first.id);
    const seq2 = await printedSeq(proc, second.id);
    assert.ok(seq1 < seq2);
    assert.equal(waiting.in_flight, seq1, "the ticket in flight was the first");

    const { code } = await proc.stop();
    assert.equal(code, 0);
    assert.equal(printer.tickets.length, 2, "once each");
    const final = readState(statePath);
    assert.ok(final.seq >= seq2);
    assert.equal(final.in_flight, null);
  });

  test("a state file from another database, or a malformed one, is refused with exit 2", async () => {
    const printer = await newPrinter();
    const statePath = newStatePath();
    const proc = await startFollowing(printer, statePath);
    assert.equal((await proc.stop()).code, 0);
    const good = readState(statePath);

    const cases = [
      ["another database's epoch", JSON.stringify({ ...good, epoch: "0".repeat(32) }) + "\n"],
      ["not JSON", "this is not json\n"],
      ["no seq", JSON.stringify({ epoch: good.epoch }) + "\n"],
      ["a string seq", JSON.stringify({ epoch: good.epoch, seq: "12" }) + "\n"],
      ["a JSON array", "[1,2]\n"],
    ];
    for (const [what, content] of cases) {
      const bad = newStatePath();
      writeFileSync(bad, content);
      const p = startPrint(printer.address, bad);
      const { code, signal } = await within(10000, p.exited, `brigade print to exit on ${what}`);
      assert.deepEqual({ code, signal }, { code: 2, signal: null }, `${what}: exit 2\n${p.stderrText}`);
      const errLines = p.stderrText.split("\n").filter((l) => l.length);
      assert.equal(errLines.length, 1, `${what}: one line on stderr: ${JSON.stringify(p.stderrText)}`);
      assert.match(errLines[0], /^brigade: /);
      assert.ok(errLines[0].includes(bad), `${what}: names the file: ${errLines[0]}`);
      assert.deepEqual(p.stdoutLines, [], `${what}: nothing followed`);
      assert.equal(readFileSync(bad, "utf8"), content, `${what}: the state file is left as it was`);
    }
    assert.equal(printer.tickets.length, 0);
  });

  test("SIGTERM exits 0 with the state at or past the last printed ticket", async () => {
    const printer = await newPrinter();
    const statePath = newStatePath();
    const proc = await startFollowing(printer, statePath);
    const orders = [await plainOrder(), await plainOrder()];
    for (const o of orders) await accept(o.id);
    const tickets = await printer.waitForTickets(2, "two tickets");
    assert.deepEqual(tickets.map(orderIdOf), orders.map((o) => o.id));
    const lastSeq = await printedSeq(proc, orders[1].id);

    const { code, signal } = await proc.stop("SIGTERM");
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, proc.stderrText);
    const state = readState(statePath);
    assert.ok(state.seq >= lastSeq, `state seq ${state.seq} >= ${lastSeq}`);
    assert.equal(state.in_flight, null);

    // Started again on that state: nothing is printed twice.
    const again = await startFollowing(printer, statePath);
    assert.equal(again.startSeq, state.seq);
    const more = await plainOrder();
    await accept(more.id);
    const all = await printer.waitForTickets(3, "the next ticket");
    assert.deepEqual(all.map(orderIdOf), [...orders.map((o) => o.id), more.id]);
    assert.ok(!isReprint(all[2]));
    assert.equal((await again.stop()).code, 0);
  });

  // app::isAcceptance() tells an acceptance from a later change of the accepted order by
  // `history.back().at == updated_at`; an order's updated_at strictly increases (the store
  // moves it 1 ms on when a change lands in the same millisecond), so a change that is not
  // a status move right behind the acceptance (here POST /assign) never prints a second
  // ticket. Found by this test before that rule existed (2 in ~200 orders printed twice).
  test("an assignment right behind the acceptance does not print a second ticket", async () => {
    const printer = await newPrinter();
    const proc = await startFollowing(printer, newStatePath());
    const rider = await newRider(server, admin.token);
    const accepted = [];
    let sameMillisecond = 0;
    for (let attempt = 0; attempt < 100; ++attempt) {
      const order = await plainOrder();
      const acceptance = accept(order.id, 5);
      // One turn of the event loop: the assignment leaves right behind the acceptance.
      await new Promise((resolve) => setImmediate(resolve));
      const assignment = assign(server, admin.token, order.id, rider.user.id);
      const [acceptedOrder, assigned] = await Promise.all([acceptance, assignment]);
      accepted.push(order.id);
      if (assigned.status === 200) {
        assert.ok(assigned.body.updated_at > acceptedOrder.updated_at, `${assigned.body.updated_at} after ${acceptedOrder.updated_at}`);
        if (Date.parse(assigned.body.updated_at) - Date.parse(acceptedOrder.updated_at) === 1) sameMillisecond += 1;
      }
    }
    const sentinel = await plainOrder();
    await accept(sentinel.id);
    await printedSeq(proc, sentinel.id);
    const printed = printer.tickets.map(orderIdOf);
    const twice = [...new Set(printed.filter((id, i) => printed.indexOf(id) !== i))];
    assert.equal((await proc.stop()).code, 0);
    assert.deepEqual(
      { twice, tickets: printed.length },
      { twice: [], tickets: accepted.length + 1 },
      `${sameMillisecond} assignments in the acceptance's millisecond; orders printed twice: ${twice.join(", ")}`,
    );
  });
});
