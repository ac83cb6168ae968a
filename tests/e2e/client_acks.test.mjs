// Acknowledgements both ways with the npm socket.io-client, with timeouts on
// either side, over WebSocket and long-polling.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { client, connected, startServer, within } from "./lib/harness.mjs";

const T = { timeout: 15000 };
let server;
const sockets = [];

before(async () => {
  // A generous pong deadline: these tests are not about heartbeats, and with the
  // default 200 ms a client stalled by a loaded machine loses its session to a
  // ping timeout (seen as an ack timing out over polling).
  server = await startServer({ args: ["--ping-timeout", "5000"] });
});
after(async () => {
  for (const socket of sockets) socket.disconnect();
  await server?.stop();
});

async function open(nsp, transports) {
  const socket = client(server, nsp, { transports });
  sockets.push(socket);
  return connected(socket);
}

for (const transports of [["websocket"], ["polling"]]) {
  describe(`acks over ${transports[0]}`, () => {
    it("client → server: the ack carries the server's answer", T, async () => {
      const socket = await open("/", transports);
      const answer = await socket.timeout(3000).emitWithAck("message-with-ack", 1, "two", { three: [3] });
      // One argument comes back as itself; the ack's further args are dropped by emitWithAck.
      assert.equal(answer, 1);
      const all = await within(
        3000,
        new Promise((resolve) => socket.emit("message-with-ack", 1, "two", (...args) => resolve(args))),
        "callback ack",
      );
      assert.deepEqual(all, [1, "two"]);
      socket.disconnect();
    });

    it("client → server: many acks in flight resolve to their own answers", T, async () => {
      const socket = await open("/", transports);
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => socket.timeout(5000).emitWithAck("message-with-ack", i)),
      );
      assert.deepEqual(answers, Array.from({ length: 100 }, (_, i) => i));
      socket.disconnect();
    });

    it("client → server: the client times out when the server never acks", T, async () => {
      const socket = await open("/", transports);
      const started = Date.now();
      await assert.rejects(socket.timeout(300).emitWithAck("no-handler-for-this"), /timed out/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 280 && elapsed < 2000, `timed out after ${elapsed} ms`);
      // The connection is still fine after a client-side timeout.
      assert.equal(await socket.timeout(3000).emitWithAck("message-with-ack", "ok"), "ok");
      socket.disconnect();
    });

    it("server → client: the server gets the client's ack", T, async () => {
      const socket = await open("/test", transports);
      socket.on("question", (payload, ack) => ack({ answer: payload.n * 2 }, "extra"));
      const result = await socket
        .timeout(5000)
        .emitWithAck("server-ack", { event: "question", timeout: 2000, payload: { n: 21 } });
      assert.deepEqual(result, { error: null, args: [{ answer: 42 }, "extra"] });
      socket.disconnect();
    });

    it("server → client: a BINARY_ACK reaches the server with its bytes", T, async () => {
      // The server's AckCallback gets the attachments; the test server sends them
      // back in its own ack, so the bytes make the round trip.
      const socket = await open("/test", transports);
      socket.on("question", (_payload, ack) => ack("label", Buffer.from([1, 2, 3])));
      const result = await socket
        .timeout(5000)
        .emitWithAck("server-ack", { event: "question", timeout: 2000, payload: null });
      assert.equal(result.error, null);
      assert.equal(result.args[0], "label");
      assert.deepEqual(Buffer.from(result.args[1]), Buffer.from([1, 2, 3]));
      assert.equal(await socket.timeout(3000).emitWithAck("message-with-ack", "alive"), "alive");
      socket.disconnect();
    });

    it("server → client: the server times out when the client never acks", T, async () => {
      const socket = await open("/test", transports);
      let asked = 0;
      socket.on("question", () => ++asked);  // takes the ack callback and never calls it
      const started = Date.now();
      const result = await socket
        .timeout(5000)
        .emitWithAck("server-ack", { event: "question", timeout: 300, payload: 1 });
      const elapsed = Date.now() - started;
      assert.equal(asked, 1);
      assert.equal(result.error, "timeout");
      assert.deepEqual(result.args, []);
      assert.ok(elapsed >= 280 && elapsed < 2000, `server timed out after ${elapsed} ms`);
      socket.disconnect();
    });

    it("server → client: a late ack after the server's timeout is ignored", T, async () => {
      const socket = await open("/test", transports);
      let ack;
      socket.on("question", (_payload, answer) => (ack = answer));
      const result = await socket
        .timeout(5000)
        .emitWithAck("server-ack", { event: "question", timeout: 150, payload: 1 });
      assert.equal(result.error, "timeout");
      // Answered only once the server reported its timeout: late for sure. The next
      // round trip on the same connection comes after the late ack: nothing must break.
      assert.equal(typeof ack, "function");
      ack("too late");
      assert.equal(await socket.timeout(3000).emitWithAck("message-with-ack", "alive"), "alive");
      socket.disconnect();
    });
  });
}
