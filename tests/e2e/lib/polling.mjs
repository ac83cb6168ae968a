// Raw Engine.IO long-polling helpers (no client library): open a session, push
// packets with POST, pull payloads with GET, split payloads at \x1e.
import assert from "node:assert/strict";
import { httpRequest } from "./harness.mjs";

export const SEPARATOR = "\x1e";

export function pollingUrl(server, path, sid, extra = "") {
  const base = `${server.url}${path}?EIO=4&transport=polling`;
  return sid ? `${base}&sid=${encodeURIComponent(sid)}${extra}` : `${base}${extra}`;
}

// Opens a long-polling session; returns { sid, handshake }.
export async function openPolling(server, path) {
  const response = await httpRequest(pollingUrl(server, path));
  assert.equal(response.status, 200);
  const body = await response.text();
  assert.ok(body.startsWith("0"), `handshake payload starts with "0": ${JSON.stringify(body)}`);
  const handshake = JSON.parse(body.slice(1));
  return { sid: handshake.sid, handshake };
}

export async function post(server, path, sid, body, init = {}) {
  const response = await httpRequest(pollingUrl(server, path, sid), { method: "POST", body, ...init });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

export async function get(server, path, sid, init = {}) {
  const response = await httpRequest(pollingUrl(server, path, sid), init);
  return { status: response.status, body: await response.text(), headers: response.headers };
}

// Pulls until `count` packets other than PING have arrived (each PING is answered
// with a PONG); returns those packets in order.
export async function pullPackets(server, path, sid, count, { maxPolls = 20 } = {}) {
  const packets = [];
  for (let i = 0; i < maxPolls && packets.length < count; ++i) {
    const { status, body } = await get(server, path, sid);
    assert.equal(status, 200, `GET while waiting for packets: ${body}`);
    for (const packet of body.split(SEPARATOR)) {
      if (packet === "2") {
        const pong = await post(server, path, sid, "3");
        assert.equal(pong.status, 200);
      } else {
        packets.push(packet);
      }
    }
  }
  assert.equal(packets.length, count, `received ${JSON.stringify(packets)}`);
  return packets;
}
