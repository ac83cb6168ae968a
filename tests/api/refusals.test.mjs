// A refusal the client can read: when the server answers before the client has
// finished sending (a body over the limit), the client must get the answer every
// time, not a reset (the server closes like nginx's lingering close). 100 rounds
// in a row with Node's http client, with fetch, and over a raw socket.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";

import { expectStatus, get, startServer } from "./lib/server.mjs";

const ROUNDS = 100;
const BODY = Buffer.alloc(2 * 1024 * 1024, 0x20); // 2 MB of spaces: over the 1 MiB limit

let server;
before(async () => {
  server = await startServer({ args: ["--no-demo"] });
});
after(async () => {
  await server?.stop();
});

describe("413 for a 2 MB body is read every time", () => {
  test(`Node's http client, ${ROUNDS} rounds`, { timeout: 120000 }, async () => {
    for (let round = 0; round < ROUNDS; ++round) {
      const answer = await new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: server.port,
            method: "POST",
            path: "/api/auth/login",
            agent: false,
            headers: { "content-type": "application/json", "content-length": BODY.length },
          },
          (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode, text }));
          },
        );
        req.on("error", (e) => reject(new Error(`round ${round}: ${e.code ?? e.message}`)));
        req.end(BODY);
      });
      assert.equal(answer.status, 413, `round ${round}`);
      assert.match(answer.text, /"code":"payload_too_large"/);
    }
  });

  test(`fetch, ${ROUNDS} rounds`, { timeout: 120000 }, async () => {
    for (let round = 0; round < ROUNDS; ++round) {
      const res = await fetch(`${server.url}/api/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
      }).catch((e) => assert.fail(`round ${round}: ${e.cause?.code ?? e.message}`));
      assert.equal(res.status, 413, `round ${round}`);
      assert.equal((await res.json()).error.code, "payload_too_large");
    }
  });

  test(`raw socket, headers and body in one write, ${ROUNDS} rounds`, { timeout: 120000 }, async () => {
    const head = Buffer.from(
      `POST /api/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n`,
    );
    const bytes = Buffer.concat([head, BODY]);
    for (let round = 0; round < ROUNDS; ++round) {
      const received = await new Promise((resolve, reject) => {
        const socket = net.connect(server.port, "127.0.0.1");
        let text = "";
        socket.on("data", (d) => (text += d.toString("latin1")));
        socket.on("error", (e) => reject(new Error(`round ${round}: ${e.code} after ${JSON.stringify(text.slice(0, 80))}`)));
        socket.on("close", () => resolve(text));
        socket.write(bytes);
      });
      assert.match(received, /^HTTP\/1\.1 413 /, `round ${round}`);
      assert.match(received, /Connection: close/);
    }
  });
});

// Slowloris: a request whose headers or body trickle in is cut off when the
// connection has gone --idle-timeout without a complete request, progress or not.
describe("requests that trickle in are cut off (own server, --idle-timeout 1)", () => {
  let slow;
  before(async () => {
    slow = await startServer({ args: ["--no-demo", "--idle-timeout", "1"] });
  });
  after(async () => {
    await slow?.stop();
  });

  // Sends `first`, then one more byte of `drip` every 100 ms until the server closes
  // the connection; resolves with how many drip bytes went out (bounded).
  function trickle(first, drip) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(slow.port, "127.0.0.1");
      let sent = 0;
      let timer;
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(timer);
        resolve(sent);
      });
      socket.once("connect", () => {
        socket.write(first);
        timer = setInterval(() => {
          if (sent >= drip.length) {
            clearInterval(timer);
            socket.destroy();
            reject(new Error(`still open after ${sent} bytes at 100 ms each`));
            return;
          }
          socket.write(drip[sent++]);
        }, 100);
      });
    });
  }

  test("headers one byte at a time", { timeout: 30000 }, async () => {
    const sent = await trickle("GET /api/menu HTTP/1.1\r\nHost: x\r\n", "X-Slow: " + "a".repeat(200));
    assert.ok(sent < 200, `closed after ${sent} bytes`);
  });

  test("a body one byte at a time", { timeout: 30000 }, async () => {
    const body = "{" + " ".repeat(198) + "}";
    const sent = await trickle(`POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body);
    assert.ok(sent < body.length, `closed after ${sent} bytes`);
  });

  test("a complete request in time is answered, and the server is healthy after", async () => {
    expectStatus(await get(slow, "/healthz"), 200);
  });
});
