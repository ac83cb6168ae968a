// Compressed answers (docs/API.md, "Headers on every answer"): JSON answers of at least
// kMinCompressBytes go out gzipped to clients that accept gzip (and as they are to the
// others), smaller ones never; the panels' files go out in the coding the build made
// (brotli or gzip) with their own ETags; HEAD announces the coded length.
import assert from "node:assert/strict";
import http from "node:http";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { repoRoot, startServer } from "./lib/server.mjs";

const kMinCompressBytes = 1024; // src/http/compression.hpp
const webDir = process.env.BRIGADE_WEB_DIR ?? join(repoRoot, "web/dist");

// A raw request: the bytes as sent (node's fetch would decode them).
function raw(server, method, path, headers = {}) {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.setTimeout(10000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

let server;
before(async () => {
  server = await startServer({ args: existsSync(join(webDir, "index.html")) ? ["--web-dir", webDir] : [] });
});
after(async () => {
  await server?.stop();
});

describe("JSON answers", () => {
  test("the menu (over 1 KiB) is gzipped for a client that takes gzip, identical once decoded", async () => {
    const plain = await raw(server, "GET", "/api/menu");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.ok(plain.body.length >= kMinCompressBytes, `the demo menu is ${plain.body.length} bytes`);
    const coded = await raw(server, "GET", "/api/menu", { "accept-encoding": "gzip, br" });
    assert.equal(coded.headers["content-encoding"], "gzip", "gzip for answers made on the fly");
    assert.match(coded.headers.vary, /(^|, )Accept-Encoding$/, "caches keep the codings apart");
    assert.ok(coded.body.length < plain.body.length / 2, `${coded.body.length} of ${plain.body.length}`);
    assert.equal(Number(coded.headers["content-length"]), coded.body.length);
    assert.deepEqual(JSON.parse(gunzipSync(coded.body)), JSON.parse(plain.body));
    const refused = await raw(server, "GET", "/api/menu", { "accept-encoding": "gzip;q=0" });
    assert.equal(refused.headers["content-encoding"], undefined);
    const head = await raw(server, "HEAD", "/api/menu", { "accept-encoding": "gzip" });
    assert.equal(head.headers["content-encoding"], "gzip");
    assert.equal(Number(head.headers["content-length"]), coded.body.length);
    assert.equal(head.body.length, 0);
  });

  test("answers under kMinCompressBytes go as they are", async () => {
    const small = await raw(server, "GET", "/healthz", { "accept-encoding": "gzip" });
    assert.ok(small.body.length < kMinCompressBytes);
    assert.equal(small.headers["content-encoding"], undefined);
  });
});

describe("the panels' files", { skip: !existsSync(join(webDir, "index.html")) && "panels not built" }, () => {
  test("brotli or gzip as the build made them, each coding with its own ETag", async () => {
    const page = await raw(server, "GET", "/");
    const script = page.body.toString().match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    assert.ok(script, "the customer page names its script");
    const plain = await raw(server, "GET", script);
    const br = await raw(server, "GET", script, { "accept-encoding": "gzip, deflate, br" });
    const gz = await raw(server, "GET", script, { "accept-encoding": "gzip" });
    assert.equal(br.headers["content-encoding"], "br");
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.deepEqual(brotliDecompressSync(br.body), plain.body);
    assert.deepEqual(gunzipSync(gz.body), plain.body);
    assert.ok(br.body.length < plain.body.length / 3, `${br.body.length} of ${plain.body.length}`);
    const tags = new Set([plain.headers.etag, br.headers.etag, gz.headers.etag]);
    assert.equal(tags.size, 3);
    const again = await raw(server, "GET", script, { "accept-encoding": "br", "if-none-match": br.headers.etag });
    assert.equal(again.status, 304);
    const fromPrecoded = await raw(server, "GET", `${script}.br`, {});
    assert.equal(fromPrecoded.status, 404, "a coding is not a file of its own");
  });
});
