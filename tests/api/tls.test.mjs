// HTTPS and WSS in Brigade itself (docs/OPERATIONS.md, "HTTPS"): a certificate made by
// `brigade cert self-signed` verifies for its host; the API, the panels' files and the
// real-time channel (WebSocket and long-polling, the npm client) work over TLS; TLS 1.1 is
// refused; plain HTTP on the TLS port gets a clear 400; --redirect-http answers 308 to the
// same path over https; SIGHUP loads a renewed certificate for new connections while open
// ones stay; unreadable or mismatched files are refused at start with exit code 2.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { after, before, test } from "node:test";

import { availableItemIds, brigadeBinary, io, loginDemo, startBrigade, within } from "../live/lib/harness.mjs";

// The harness's fetch-based helpers do not take a CA: they skip the check (this file only);
// the tests that matter verify the certificate with https.request({ca}).
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

const dir = mkdtempSync(path.join(os.tmpdir(), "brigade-tls-"));
const certFile = path.join(dir, "cert.pem");
const keyFile = path.join(dir, "key.pem");
let server;
let redirectPort;
const sockets = [];

const brigade = (args) => spawnSync(brigadeBinary(), args, { encoding: "utf8", timeout: 30000 });

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// GET over https with the certificate as the only trusted authority.
function verifiedGet(urlPath, { ca = readFileSync(certFile), agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port: server.port, path: urlPath, ca, agent, rejectUnauthorized: true, ALPNProtocols: ["http/1.1"] },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          resolve({ status: res.statusCode, body, alpn: res.socket.alpnProtocol, cert: res.socket.getPeerCertificate?.() ?? null }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

// The certificate the server presents to a new connection (its SHA-256 fingerprint).
function presented() {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port: server.port, rejectUnauthorized: false, servername: undefined }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on("error", reject);
  });
}

const fingerprintOf = (file) => new crypto.X509Certificate(readFileSync(file)).fingerprint256;

// A raw exchange on a plain TCP connection: what comes back until the server closes.
function rawExchange(port, text) {
  return within(
    10000,
    new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => s.write(text));
      let got = "";
      s.on("data", (c) => (got += c));
      s.on("end", () => resolve(got));
      s.on("close", () => resolve(got));
      s.on("error", reject);
    }),
    "the server's answer",
  );
}

before(async () => {
  const made = brigade(["cert", "self-signed", "--host", "127.0.0.1", "--out", dir]);
  assert.equal(made.status, 0, made.stderr);
  redirectPort = await freePort();
  server = await startBrigade({ args: ["--tls-cert", certFile, "--tls-key", keyFile, "--redirect-http", String(redirectPort)] });
});
after(async () => {
  for (const s of sockets) s.close();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test("brigade cert self-signed: a certificate for the host, a private key only its owner reads, never over files", () => {
  const line = JSON.parse(brigade(["cert", "self-signed", "--host", "127.0.0.1", "--out", path.join(dir, "again")]).stdout.trim());
  assert.equal(line.certificate.host, "127.0.0.1");
  assert.equal(statSync(line.certificate.key).mode & 0o777, 0o600);
  const x509 = new crypto.X509Certificate(readFileSync(line.certificate.cert));
  assert.match(x509.subjectAltName, /IP Address:127\.0\.0\.1/);
  assert.ok(x509.checkPrivateKey(crypto.createPrivateKey(readFileSync(line.certificate.key))));
  const exists = brigade(["cert", "self-signed", "--host", "127.0.0.1", "--out", path.join(dir, "again")]);
  assert.equal(exists.status, 2);
  assert.match(exists.stderr, /exists \(--force replaces it\)/);
  const bad = brigade(["cert", "self-signed", "--host", "not a host!", "--out", path.join(dir, "bad")]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--host/);
});

test("the API and the panels over https, verified against the certificate; ALPN http/1.1", async () => {
  assert.ok(server.url.startsWith("https://"), server.url);
  const health = await verifiedGet("/healthz");
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body).status, "ok");
  assert.equal(health.alpn, "http/1.1");
  const menu = await verifiedGet("/api/menu");
  assert.equal(menu.status, 200);
  assert.ok(JSON.parse(menu.body).categories.length > 0);
  // Another authority does not verify it.
  const other = brigade(["cert", "self-signed", "--host", "127.0.0.1", "--out", path.join(dir, "other")]);
  assert.equal(other.status, 0);
  await assert.rejects(verifiedGet("/healthz", { ca: readFileSync(path.join(dir, "other", "cert.pem")) }), /self[- ]signed|unable to verify|certificate/i);
});

test("TLS 1.1 is refused; plain HTTP on the TLS port gets a 400 that says why", async () => {
  await assert.rejects(
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port: server.port, minVersion: "TLSv1", maxVersion: "TLSv1.1", rejectUnauthorized: false }, () => {
        s.end();
        resolve();
      });
      s.on("error", reject);
    }),
  );
  const answer = await rawExchange(server.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(answer, /This port speaks HTTPS: use https:\/\/ here\./);
  assert.equal((await verifiedGet("/healthz")).status, 200, "the server goes on");
});

test("--redirect-http: 308 to the same path and query over https; no Host, no redirect", async () => {
  const answer = await rawExchange(redirectPort, `GET /admin/?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${redirectPort}\r\nConnection: close\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 308 Permanent Redirect\r\n/);
  assert.match(answer, new RegExp(`\r\nLocation: https://127\\.0\\.0\\.1:${server.port}/admin/\\?x=1\r\n`));
  const post = await rawExchange(redirectPort, `POST /api/orders HTTP/1.1\r\nHost: brigade.lan\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  assert.match(post, new RegExp(`\r\nLocation: https://brigade\\.lan:${server.port}/api/orders\r\n`));
  const forged = await rawExchange(redirectPort, `GET / HTTP/1.1\r\nHost: evil.example/@x\r\nConnection: close\r\n\r\n`);
  assert.match(forged, /^HTTP\/1\.1 400 /);
});

test("the real-time channel over WSS and long-polling with the npm client; SIGHUP renews the certificate, open sockets stay", async () => {
  const admin = await loginDemo(server, "admin");
  const ca = readFileSync(certFile);
  const opened = [];
  for (const transports of [["websocket"], ["polling"]]) {
    // The WebSocket is pinned to the first certificate: it keeps its connection across the
    // renewal. Long-polling opens new connections, which meet the renewed certificate (a new
    // self-signed authority here; a real renewal keeps its authority): not pinned.
    const pinned = transports[0] === "websocket";
    const socket = io(server.url, {
      auth: { token: admin.token, statusChanged: false },
      transports,
      ...(pinned ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    const events = [];
    socket.onAny((name, ...args) => events.push({ name, args }));
    await within(10000, new Promise((resolve, reject) => {
      socket.on("ready", resolve);
      socket.on("connect_error", reject);
    }), `${transports} ready`);
    const entry = { socket, events, disconnects: [] };
    opened.push(entry);
    socket.on("disconnect", (reason) => entry.disconnects.push(reason));
  }
  const before = await presented();
  assert.equal(before, fingerprintOf(certFile));

  // A renewed certificate in place, then SIGHUP: new connections get it.
  const renewed = brigade(["cert", "self-signed", "--host", "127.0.0.1", "--out", dir, "--force"]);
  assert.equal(renewed.status, 0, renewed.stderr);
  const fresh = fingerprintOf(certFile);
  assert.notEqual(fresh, before);
  process.kill(server.pid, "SIGHUP");
  await within(10000, (async () => {
    while ((await presented()) !== fresh) await new Promise((r) => setTimeout(r, 50));
  })(), "the renewed certificate");
  assert.equal((await verifiedGet("/healthz", { ca: readFileSync(certFile) })).status, 200);

  // The sockets opened before still get what happens.
  const [item] = await availableItemIds(server);
  const customer = await (await fetch(`${server.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `tls-${Date.now()}@example.com`, password: "password-123", name: "TLS" }),
  })).json();
  const placed = await (await fetch(`${server.url}/api/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${customer.token}` },
    body: JSON.stringify({ items: [{ item_id: item, quantity: 1 }], delivery: { address: "1 TLS Street" } }),
  })).json();
  for (const o of opened) {
    await within(10000, (async () => {
      while (!o.events.some((e) => e.name === "order:changed" && e.args[0].order.id === placed.id)) await new Promise((r) => setTimeout(r, 20));
    })(), "the order on an old socket");
    assert.deepEqual(o.disconnects, [], `${o.socket.io.engine.transport.name}: no disconnect`);
    assert.ok(o.socket.connected);
  }
});

test("unreadable or mismatched certificate files are refused at start with exit code 2", () => {
  const missing = brigade(["--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "d1"), "--tls-cert", path.join(dir, "nope.pem"), "--tls-key", keyFile]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read the certificate/);
  const mismatched = brigade(["--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "d2"), "--tls-cert", certFile, "--tls-key", path.join(dir, "other", "key.pem")]);
  assert.equal(mismatched.status, 2);
  assert.match(mismatched.stderr, /does not match the certificate|key values mismatch/);
  const alone = brigade(["--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "d3"), "--tls-cert", certFile]);
  assert.notEqual(alone.status, 0);
  assert.match(alone.stderr + alone.stdout, /--tls-key/);
});
