// RFC 6455 edge cases over a raw TCP socket against the running server's
// Engine.IO echo endpoint: what the server answers (close codes) to every kind of
// bad frame, and that the frame forms it must accept work end to end.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, it } from "node:test";

import WebSocket from "ws";

import { startServer, within } from "./lib/harness.mjs";

const T = { timeout: 10000 };
let server;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

// A client frame: masked unless told otherwise.
function frame(opcode, payload, { fin = true, rsv = 0, mask = true, lengthForm } = {}) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const maskBit = mask ? 0x80 : 0;
  const form = lengthForm ?? (body.length < 126 ? 7 : body.length <= 0xffff ? 16 : 64);
  if (form === 7) {
    head.push(maskBit | body.length);
  } else if (form === 16) {
    head.push(maskBit | 126, body.length >> 8, body.length & 0xff);
  } else {
    head.push(maskBit | 127);
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(body.length));
    head.push(...len);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), body]);
  const key = randomBytes(4);
  const masked = Buffer.from(body.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

// Opens a WebSocket on /engine.io/ by hand and parses the server's frames.
async function open() {
  const socket = net.connect(server.port, "127.0.0.1");
  await within(3000, new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  }), "connect");
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  let headDone = false;
  const frames = [];
  const waiters = [];
  let closed = false;
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!headDone) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      assert.match(buffer.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
      buffer = buffer.subarray(end + 4);
      headDone = true;
    }
    while (buffer.length >= 2) {
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) break;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) break;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) break;
      assert.equal(buffer[1] & 0x80, 0, "server frames are never masked");
      frames.push({ opcode, payload: buffer.subarray(offset, offset + length) });
      buffer = buffer.subarray(offset + length);
    }
    wake();
  });
  socket.on("close", () => {
    closed = true;
    wake();
  });
  socket.on("error", () => {});
  const next = async (what) => {
    while (frames.length === 0) {
      if (closed) throw new Error(`connection closed while waiting for ${what}`);
      await within(3000, new Promise((resolve) => waiters.push(resolve)), what);
    }
    return frames.shift();
  };
  const open = await next("the open packet");
  assert.equal(open.payload.toString()[0], "0");
  return {
    send: (bytes) => socket.write(bytes),
    next,
    // The close frame the server sends, then the end of the connection.
    async closeCode() {
      for (;;) {
        const f = await next("a close frame");
        if (f.opcode === 0x8) {
          await within(3000, new Promise((resolve) => (closed ? resolve() : waiters.push(resolve))), "the end of the connection");
          return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        }
      }
    },
    destroy: () => socket.destroy(),
  };
}

describe("RFC 6455 over a raw socket", () => {
  const refused = [
    ["reserved bits set", () => frame(0x1, "4x", { rsv: 4 }), 1002],
    ["an unknown data opcode", () => frame(0x3, "4x"), 1002],
    ["an unknown control opcode", () => frame(0xb, ""), 1002],
    ["a fragmented control frame", () => frame(0x9, "p", { fin: false }), 1002],
    ["an oversized control frame (126 bytes)", () => frame(0x9, Buffer.alloc(126, 1)), 1002],
    ["an unmasked client frame", () => frame(0x1, "4x", { mask: false }), 1002],
    ["invalid UTF-8 in a text frame", () => frame(0x1, Buffer.from([0x34, 0xc3, 0x28])), 1007],
    ["a continuation without a message", () => frame(0x0, "x"), 1002],
    ["a 16-bit length used for a short payload", () => frame(0x1, "4x", { lengthForm: 16 }), 1002],
    ["a close frame with a one-byte payload", () => frame(0x8, Buffer.from([3])), 1002],
    ["a close frame with an invalid code (999)", () => frame(0x8, Buffer.from([0x03, 0xe7])), 1002],
    ["a message larger than maxPayload", () => frame(0x1, "4" + "x".repeat(1000001)), 1009],
  ];
  for (const [what, make, code] of refused) {
    it(`answers ${what} with close ${code}`, T, async () => {
      const ws = await open();
      ws.send(make());
      assert.equal(await ws.closeCode(), code);
    });
  }

  // The client is still sending when the server refuses: the server must let it
  // read the close frame (lingering close), not reset the connection (1006).
  it("answers an oversized message with close 1009 every time (100 rounds)", { timeout: 120000 }, async () => {
    const big = frame(0x1, "4" + "x".repeat(2_000_000));
    for (let round = 0; round < 100; ++round) {
      const ws = await open();
      ws.send(big);
      assert.equal(await ws.closeCode(), 1009, `round ${round}`);
    }
  });

  it("answers an oversized message with close 1009 every time, to Node's ws client (100 rounds)", { timeout: 120000 }, async () => {
    const big = "4" + "x".repeat(2_000_000);
    for (let round = 0; round < 100; ++round) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
      const code = await within(
        10000,
        new Promise((resolve, reject) => {
          ws.once("message", () => ws.send(big)); // after the open packet
          ws.once("close", (c) => resolve(c));
          ws.once("error", reject);
        }),
        `round ${round}`,
      );
      assert.equal(code, 1009, `round ${round}`);
    }
  });

  it("echoes the client's close code and closes", T, async () => {
    const ws = await open();
    ws.send(frame(0x8, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65])));  // 1000 "bye"
    assert.equal(await ws.closeCode(), 1000);
  });

  it("answers a ping with a pong carrying the same payload", T, async () => {
    const ws = await open();
    ws.send(frame(0x9, "hello"));
    const pong = await ws.next("the pong");
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), "hello");
    ws.destroy();
  });

  it("reassembles fragments with a ping between them", T, async () => {
    const ws = await open();
    ws.send(frame(0x1, "4hel", { fin: false }));
    ws.send(frame(0x9, "mid"));
    ws.send(frame(0x0, "lo w", { fin: false }));
    ws.send(frame(0x0, "orld"));
    const pong = await ws.next("the pong");
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), "mid");
    const echo = await ws.next("the echo");
    assert.equal(echo.opcode, 0x1);
    assert.equal(echo.payload.toString(), "4hello world");
    ws.destroy();
  });

  it("accepts a UTF-8 character split across fragments", T, async () => {
    const ws = await open();
    const euro = Buffer.from("4€");  // 0x34 0xe2 0x82 0xac
    ws.send(frame(0x1, euro.subarray(0, 2), { fin: false }));
    ws.send(frame(0x0, euro.subarray(2)));
    const echo = await ws.next("the echo");
    assert.equal(echo.payload.toString(), "4€");
    ws.destroy();
  });

  for (const [form, size] of [["16-bit", 1000], ["64-bit", 70000]]) {
    it(`echoes a message with a ${form} length, framed the same way back`, T, async () => {
      const ws = await open();
      const text = "4" + "y".repeat(size);
      ws.send(frame(0x1, text));
      const echo = await ws.next("the echo");
      assert.equal(echo.payload.length, text.length);
      assert.equal(echo.payload.toString(), text);
      ws.destroy();
    });
  }

  it("echoes a binary frame", T, async () => {
    const ws = await open();
    const bytes = randomBytes(300);
    ws.send(frame(0x2, bytes));
    const echo = await ws.next("the echo");
    assert.equal(echo.opcode, 0x2);
    assert.deepEqual(echo.payload, bytes);
    ws.destroy();
  });

  it("keeps serving other clients after every refusal above", T, async () => {
    const ws = await open();
    ws.send(frame(0x1, "4still here"));
    assert.equal((await ws.next("the echo")).payload.toString(), "4still here");
    ws.destroy();
  });
});
