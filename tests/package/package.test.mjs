// The Debian package (docs/OPERATIONS.md, "Package and service"): scripts/package.sh makes
// brigade_VERSION_amd64.deb from this build; apt-get installs it on this machine; the
// installed binary names its version and commit, its unit passes systemd-analyze, its
// default configuration checks, and it serves the installed panels from a temporary data
// folder; apt-get purge removes everything it installed and leaves the data.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { brigadeBinary, repoRoot, startServer } from "../lib/server.mjs";

const root = process.getuid() === 0;
// apt-get and dpkg as root: directly, or through password-less sudo.
const asRoot = (cmd, args, opts = {}) =>
  spawnSync(root ? cmd : "sudo", root ? args : ["-n", cmd, ...args], {
    encoding: "utf8",
    timeout: 240000,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    ...opts,
  });

const INSTALLED = [
  "/usr/bin/brigade",
  "/usr/share/brigade/web/index.html",
  "/usr/share/brigade/web/admin/index.html",
  "/usr/share/brigade/web/rider/index.html",
  "/lib/systemd/system/brigade.service",
  "/etc/brigade/brigade.toml",
  "/usr/share/doc/brigade/OPERATIONS.md",
];

test("build, install, run, purge: nothing left but the data", async () => {
  if (!root) {
    const sudo = spawnSync("sudo", ["-n", "true"]);
    assert.equal(sudo.status, 0, "this test installs a package: run it as root or with password-less sudo");
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), "brigade-package-"));
  try {
    const deb = execFileSync("bash", [path.join(repoRoot, "scripts/package.sh"), "--out", scratch, "--no-build"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 240000,
    })
      .trim()
      .split("\n")
      .pop();
    const built = execFileSync(brigadeBinary(), ["--version"], { encoding: "utf8" }).trim();
    const [, version, commit] = built.match(/^brigade (\S+) \(git ([0-9a-f]{12}|unknown)\)$/);
    assert.equal(path.basename(deb), `brigade_${version}+git${commit}_amd64.deb`);

    const info = execFileSync("dpkg-deb", ["-f", deb, "Package", "Depends"], { encoding: "utf8" });
    assert.match(info, /^Package: brigade$/m);
    for (const lib of ["libsqlite3-0", "libpq5", "libssl3", "libsodium23"]) assert.match(info, new RegExp(lib), `depends on ${lib}`);
    const files = execFileSync("dpkg-deb", ["-c", deb], { encoding: "utf8", maxBuffer: 16 << 20 });
    for (const f of INSTALLED) assert.ok(files.includes(`.${f}`), `${f} is in the package`);

    const install = asRoot("apt-get", ["install", "-y", "-q", "--no-install-recommends", deb]);
    assert.equal(install.status, 0, install.stdout + install.stderr);
    try {
      for (const f of INSTALLED) assert.ok(existsSync(f), `${f} installed`);
      assert.equal(execFileSync("/usr/bin/brigade", ["--version"], { encoding: "utf8" }).trim(), built);
      const check = spawnSync("/usr/bin/brigade", ["config", "check", "/etc/brigade/brigade.toml"], { encoding: "utf8" });
      assert.equal(check.status, 0, check.stderr);
      assert.match(check.stdout, /^no-demo = "true"  # file$/m);
      if (existsSync("/usr/bin/systemd-analyze")) {
        const verify = spawnSync("systemd-analyze", ["verify", "/lib/systemd/system/brigade.service"], { encoding: "utf8" });
        assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      }

      // The installed binary with the installed settings and panels, on a temporary folder.
      const data = path.join(scratch, "data");
      const server = await startServer({
        binary: "/usr/bin/brigade",
        name: "installed brigade",
        listenArgs: (port) => ["--listen", `127.0.0.1:${port}`],
        dataDir: data,
        args: ["--config", "/etc/brigade/brigade.toml", "--web-dir", "/usr/share/brigade/web"],
      });
      try {
        for (const page of ["/", "/admin/", "/rider/"]) {
          const res = await fetch(`${server.url}${page}`);
          assert.equal(res.status, 200, page);
          assert.match(await res.text(), /<div id="root">/);
        }
        assert.equal((await (await fetch(`${server.url}/healthz`)).json()).status, "ok");
        const menu = await (await fetch(`${server.url}/api/menu`)).json();
        assert.deepEqual(menu.categories, [], "no demo data (the default configuration)");
      } finally {
        await server.stop();
      }
      assert.ok(existsSync(path.join(data, "brigade.db")));

      const purge = asRoot("apt-get", ["purge", "-y", "-q", "brigade"]);
      assert.equal(purge.status, 0, purge.stdout + purge.stderr);
      for (const f of [...INSTALLED, "/usr/share/brigade", "/etc/brigade", "/usr/share/doc/brigade"]) {
        assert.ok(!existsSync(f), `${f} removed`);
      }
      assert.ok(existsSync(path.join(data, "brigade.db")), "the data stays");
    } finally {
      if (existsSync("/usr/bin/brigade") && spawnSync("dpkg", ["-s", "brigade"]).status === 0) asRoot("apt-get", ["purge", "-y", "-q", "brigade"]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
