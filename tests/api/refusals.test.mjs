// A refusal the client can read: when the server answers before the client has
// finished sending (a body over the limit), the client must get the answer every
// time, not a reset (the server closes like nginx's lingering close). 100 rounds
// in a row with Node's http client, with fetch, and over a raw socket.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";

import { startServer } from "./lib/server.mjs";

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
