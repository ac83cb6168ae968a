// The panels' files over HTTP (issue 9): the real server, started with --web-dir on a
// small fake dist, answers only the files indexed at start-up. Requests are written
// raw on a TCP socket so that no client normalises the paths (//, %2f, .., \, NUL,
// overlong UTF-8): every way out of the web directory answers 404 at once, without
// the bytes of /etc/passwd or of the SQLite database; the server stays healthy; the
// real files come with their types and cache headers; HEAD, 304 and 405 behave.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startServer } from "./lib/server.mjs";

const INDEX = "<!doctype html><title>customer</title>";
const ADMIN = "<!doctype html><title>admin</title>";
const RIDER = "<!doctype html><title>rider</title>";
const APP_JS = "console.log('brigade');\n";

let server;
let tmp;
let webDir;
let dataDir;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "brigade-static-"));
  webDir = path.join(tmp, "web");
  dataDir = path.join(tmp, "data");
  mkdirSync(path.join(webDir, "admin"), { recursive: true });
  mkdirSync(path.join(webDir, "rider"));
  mkdirSync(path.join(webDir, "assets"));
  mkdirSync(dataDir);
  writeFileSync(path.join(webDir, "index.html"), INDEX);
  writeFileSync(path.join(webDir, "admin", "index.html"), ADMIN);
  writeFileSync(path.join(webDir, "rider", "index.html"), RIDER);
  writeFileSync(path.join(webDir, "assets", "app.js"), APP_JS);
  // Planted links: to a system file, a system directory, and the server's own database.
  symlinkSync("/etc/passwd", path.join(webDir, "evil"));
  symlinkSync("/etc", path.join(webDir, "evildir"));
  symlinkSync(path.join(dataDir, "brigade.db"), path.join(webDir, "brigade.db"));
  server = await startServer({ dataDir, args: ["--web-dir", webDir] });
});

after(async () => {
  await server?.stop({ keepDir: true });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// One request written as is; resolves { status, headers, body (Buffer), raw }.
// Connection: close, so the body is everything after the head.
function raw(method, target, { headers = {}, timeoutMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1");
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${method} ${JSON.stringify(target)}`));
    }, timeoutMs);
    socket.on("connect", () => {
      let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      socket.write(Buffer.from(head + "\r\n", "latin1"));
    });
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return reject(new Error(`incomplete answer to ${target}: ${all.toString("latin1")}`));
      const [statusLine, ...lines] = all.subarray(0, end).toString("latin1").split("\r\n");
      const parsed = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers: parsed,
        body: all.subarray(end + 4),
        raw: all.toString("latin1"),
      });
    });
  });
}

describe("paths outside the index", () => {
  test("every traversal spelling answers 404 without leaking", async () => {
    const db = path.join(dataDir, "brigade.db");
    const targets = [
      "//etc/passwd",
      "///etc/passwd",
      "/etc/passwd",
      "/%2fetc/passwd",
      "/%2Fetc%2Fpasswd",
      "/%2f%2fetc%2fpasswd",
      "/..%2f..%2fetc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/%252e%252e/etc/passwd",
      "/%252f%252fetc/passwd",
      "/..%5c..%5cetc/passwd",
      "/..\\..\\etc\\passwd",
      "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
      "/%c0%ae%c0%ae/etc/passwd",
      "/%c0%af",
      "/%c0%afetc%c0%afpasswd",
      "/index.html%00.png",
      "/index.html%00",
      "/%00",
      "/evil",
      "/evil/",
      "/evildir",
      "/evildir/",
      "/evildir/passwd",
      "/brigade.db",
      "/proc/self/environ",
      "//proc/self/environ",
      "/%2fproc/self/environ",
      "//proc/kmsg",
      "/%2fproc%2fkmsg",
      "/../brigade.db",
      "/../data/brigade.db",
      "/..%2fdata%2fbrigade.db",
      "/admin/../../etc/passwd",
      "/admin/..%2f..%2fetc/passwd",
      "/assets/../../etc/passwd",
      "/./../etc/passwd",
      "/admin//../../etc/passwd",
      db,
      "/" + db,
      "//" + db,
      "/%2f" + db.slice(1),
      "/" + encodeURIComponent(db),
      path.join(webDir, "index.html"),
      "/" + path.join(webDir, "index.html"),
      "/nope",
      "/nope.js",
      "/admin/nope",
      "/assets/",
      "/admin//",
      "//index.html",
      "/./index.html",
      "http://127.0.0.1/etc/passwd",
    ];
    assert.ok(existsSync(db), "the database the paths aim at exists");
    // Every target is tried, so that a failure lists all the spellings that got through.
    const failures = [];
    for (const target of targets) {
      let res;
      try {
        res = await raw("GET", target);
      } catch (error) {
        failures.push(`${target}: ${error.message}`);
        continue;
      }
      const text = res.body.toString("latin1");
      if (res.status !== 404) failures.push(`${target}: ${res.status}`);
      if (text.includes("root:")) failures.push(`${target}: leaked /etc/passwd`);
      if (text.includes("SQLite format 3")) failures.push(`${target}: leaked the database`);
      if (text.includes("SHELL=") || text.includes("PATH=")) failures.push(`${target}: leaked an environment`);
    }
    assert.deepEqual(failures, []);
  });

  test("the server is healthy afterwards", async () => {
    const res = await raw("GET", "/healthz");
    assert.equal(res.status, 200, res.raw);
  });

  test("a file created after start-up is not served: lookups never touch the disk", async () => {
    writeFileSync(path.join(webDir, "late.html"), "<p>late</p>");
    writeFileSync(path.join(webDir, "admin", "late.js"), "late()");
    assert.equal((await raw("GET", "/late.html")).status, 404);
    assert.equal((await raw("GET", "/admin/late.js")).status, 404);
    // Nor are changes to indexed files.
    writeFileSync(path.join(webDir, "index.html"), "changed");
    assert.equal((await raw("GET", "/")).body.toString(), INDEX);
  });
});

describe("the panels", () => {
  test("pages and assets with their types and cache headers", async () => {
    const expected = [
      ["/", INDEX],
      ["/index.html", INDEX],
      ["/admin", ADMIN],
      ["/admin/", ADMIN],
      ["/admin/index.html", ADMIN],
      ["/rider", RIDER],
      ["/rider/", RIDER],
      ["/?ref=qr", INDEX],
    ];
    for (const [target, body] of expected) {
      const res = await raw("GET", target);
      assert.equal(res.status, 200, `${target}: ${res.raw.slice(0, 200)}`);
      assert.equal(res.body.toString(), body, target);
      assert.equal(res.headers["content-type"], "text/html; charset=utf-8", target);
      assert.equal(res.headers["cache-control"], "no-cache", target);
      assert.equal(Number(res.headers["content-length"]), Buffer.byteLength(body), target);
      assert.equal(res.headers["x-content-type-options"], "nosniff", target);
      assert.ok(res.headers.etag, target);
    }
    const js = await raw("GET", "/assets/app.js?v=1");
    assert.equal(js.status, 200, js.raw);
    assert.equal(js.body.toString(), APP_JS);
    assert.equal(js.headers["content-type"], "application/javascript; charset=utf-8");
    assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
  });

  test("HEAD: the same headers, the real Content-Length, no body", async () => {
    const get = await raw("GET", "/assets/app.js");
    const head = await raw("HEAD", "/assets/app.js");
    assert.equal(head.status, 200, head.raw);
    assert.equal(head.body.length, 0, head.raw);
    assert.equal(Number(head.headers["content-length"]), Buffer.byteLength(APP_JS));
    for (const name of ["content-type", "cache-control", "etag"]) {
      assert.equal(head.headers[name], get.headers[name], name);
    }
    const miss = await raw("HEAD", "//etc/passwd");
    assert.equal(miss.status, 404);
    assert.equal(miss.body.length, 0, miss.raw);
  });

  test("If-None-Match with the ETag answers 304 without a body", async () => {
    const first = await raw("GET", "/admin/");
    const again = await raw("GET", "/admin/", { headers: { "If-None-Match": first.headers.etag } });
    assert.equal(again.status, 304, again.raw);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, first.headers.etag);
    const other = await raw("GET", "/admin/", { headers: { "If-None-Match": '"other"' } });
    assert.equal(other.status, 200);
  });

  test("other methods answer 405 with Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await raw(method, "/", { headers: { "Content-Length": "0" } });
      assert.equal(res.status, 405, `${method}: ${res.raw}`);
      assert.equal(res.headers.allow, "GET, HEAD", method);
    }
  });
});
