// Beyond one machine, against a real registry (docker-registry on 127.0.0.1): push a bundle,
// an ISO and the lock as one artifact that skopeo reads; pull them back byte for byte; a
// tampered blob refused; two runners sharing one --cache-registry, the second never asking
// the Tiny Core mirror (served over HTTP here and counted); a stopped registry costs one
// warning; logins wrong and right, the password never printed.
import { createHash } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryClient } from "../../src/registry/client.js";
import { parseReference } from "../../src/registry/reference.js";
import { mkbundleAsync } from "../helpers/cli.js";
import { startMirror, type MirrorServer } from "../helpers/mirror-server.js";
import { fixturesDir } from "../helpers/paths.js";
import { freePort, startRegistry, type Registry } from "../helpers/registry.js";
import { q, sh } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { proxyDispatcher } from "../../src/net/download.js";

const DIRECT = proxyDispatcher({ httpProxy: "", httpsProxy: "", noProxy: "" });

const { dir, write } = tempDir("mkbundle-registry-");
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const LOGIN = { user: "ci-runner", password: "pa55-w0rd-never-printed" };

let open: Registry;
let locked: Registry;
let mirror: MirrorServer;
let manifest: string;
let outputs: { bundle: string; iso: string; lock: string };

const build = (args: string[], env: Record<string, string> = {}) =>
  mkbundleAsync(["build", manifest, "--mirror", mirror.url, ...args], { env });

beforeAll(async () => {
  open = await startRegistry(join(dir, "open"));
  locked = await startRegistry(join(dir, "locked"), { user: LOGIN.user, password: LOGIN.password });
  mirror = await startMirror(join(fixturesDir(), "tinycore"));
  manifest = write(
    "reg/reg.yaml",
    "name: reg\nversion: 1.0.0\nbase:\n  release: 4.x\n  iso: Core-4.4.iso\nextensions:\n  builtin: [bash]\nfiles:\n  - path: /etc/motd\n    content: shared\n",
  );
  const r = await build(["--work-dir", join(dir, "wd0"), "--out", join(dir, "out0")]);
  expect(r.code, r.stderr).toBe(0);
  outputs = {
    bundle: join(dir, "out0/reg-bundle-dev.tar.gz"),
    iso: r.stdout.trim(),
    lock: join(dir, "reg/reg.lock"),
  };
}, 120_000);

afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop(), mirror?.close()]);
});

describe("push and pull", () => {
  it("push: skopeo sees an OCI artifact with a layer per file, titles, media types and annotations", async () => {
    const ref = `${open.host}/team/reg:1.0.0`;
    const pushAll = [outputs.bundle, outputs.iso, outputs.lock, ref, "--plain-http", "--revision", "0123abc"];
    const r = await mkbundleAsync(["push", ...pushAll]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^${ref}@sha256:[0-9a-f]{64}$`));
    const raw = JSON.parse(sh(`skopeo inspect --raw --tls-verify=false docker://${ref}`).toString()) as {
      artifactType: string;
      config: { mediaType: string };
      layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
      annotations: Record<string, string>;
    };
    expect(raw.artifactType).toBe("application/vnd.mkbundle.image.v1");
    expect(raw.config.mediaType).toBe("application/vnd.oci.empty.v1+json");
    expect(
      raw.layers.map((l) => [l.annotations["org.opencontainers.image.title"], l.mediaType, l.digest, l.size]),
    ).toEqual([
      [
        "reg-bundle-dev.tar.gz",
        "application/vnd.mkbundle.bundle.v1.tar+gzip",
        `sha256:${sha(outputs.bundle)}`,
        readFileSync(outputs.bundle).length,
      ],
      ["reg-dev-1.0.0.iso", "application/vnd.efi.iso", `sha256:${sha(outputs.iso)}`, readFileSync(outputs.iso).length],
      [
        "reg.lock",
        "application/vnd.mkbundle.lock.v1+yaml",
        `sha256:${sha(outputs.lock)}`,
        readFileSync(outputs.lock).length,
      ],
    ]);
    expect(raw.annotations).toMatchObject({
      "io.mkbundle.manifest": "reg",
      "io.mkbundle.flavour": "dev",
      "org.opencontainers.image.version": "1.0.0",
      "org.opencontainers.image.revision": "0123abc",
      "org.opencontainers.image.created": "2020-01-01T00:00:00.000Z",
    });
    // Pushing again sends no blob twice, and gives the same manifest digest.
    const again = await mkbundleAsync(["push", ...pushAll, "-v"]);
    expect(again.stdout).toBe(r.stdout);
    expect(again.stderr).toMatch(/present\s+reg-dev-1\.0\.0\.iso/);
  }, 120_000);

  it("pull into an empty directory gives byte-identical files", async () => {
    const out = join(dir, "pulled");
    const r = await mkbundleAsync(["pull", `${open.host}/team/reg:1.0.0`, "--plain-http", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["reg-bundle-dev.tar.gz", "reg-dev-1.0.0.iso", "reg.lock"]);
    for (const f of [outputs.bundle, outputs.iso, outputs.lock])
      expect(sha(join(out, f.split("/").pop()!))).toBe(sha(f));
  }, 120_000);

  it("promotion to another repository mounts every blob instead of uploading it", async () => {
    const r = await mkbundleAsync([
      "push",
      outputs.bundle,
      outputs.iso,
      `${open.host}/team/reg-prod:1.0.0`,
      "--plain-http",
      "--mount-from",
      "team/reg",
      "-v",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/mounted\s+reg-bundle-dev\.tar\.gz/);
    expect(r.stderr).toMatch(/mounted\s+reg-dev-1\.0\.0\.iso/);
    const bad = await mkbundleAsync([
      "push",
      outputs.lock,
      `${open.host}/team/x:1`,
      "--plain-http",
      "--mount-from",
      "../etc",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mount-from .* is not a registry reference/);
  }, 60_000);

  it("a blob larger than the chunk size goes up in PATCH chunks and comes back byte for byte", async () => {
    const methods: string[] = [];
    const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      methods.push(opts.method);
      return dispatch(opts, handler);
    });
    const client = registryClient(parseReference(`${open.host}/team/chunked:1`, "test"), {
      plainHttp: true,
      credentials: { authFiles: [] },
      chunkBytes: 1_000_000,
      dispatcher,
    });
    const size = readFileSync(outputs.iso).length;
    expect(await client.pushBlob(`sha256:${sha(outputs.iso)}`, outputs.iso, size)).toBe("uploaded");
    expect(methods.filter((m) => m === "PATCH")).toHaveLength(Math.ceil(size / 1_000_000));
    expect(methods.slice(-1)).toEqual(["PUT"]);
    const back = join(dir, "chunked.iso");
    expect(await client.fetchBlob(`sha256:${sha(outputs.iso)}`, back, size)).toBe(size);
    expect(sha(back)).toBe(sha(outputs.iso));
  }, 60_000);

  it("a tampered blob in the registry's storage is refused, and nothing is left in --out", async () => {
    const ref = `${open.host}/team/tampered:1`;
    expect((await mkbundleAsync(["push", outputs.lock, ref, "--plain-http"])).code).toBe(0);
    const blob = open.blobPath(`sha256:${sha(outputs.lock)}`);
    const bytes = readFileSync(blob);
    bytes[10] = bytes[10]! ^ 0x20;
    writeFileSync(blob, bytes);
    const out = join(dir, "pulled-tampered");
    const r = await mkbundleAsync(["pull", ref, "--plain-http", "--out", out]);
    writeFileSync(blob, readFileSync(outputs.lock)); // the registry is shared by later tests
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`registry ${open.host}: blob sha256:${sha(outputs.lock)} has the wrong bytes`));
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 60_000);

  it("a manifest whose layer title is a path is refused before anything is fetched", async () => {
    const client = registryClient(parseReference(`${open.host}/team/evil:1`, "test"), {
      plainHttp: true,
      dispatcher: DIRECT,
      credentials: { authFiles: [] },
    });
    const digest = `sha256:${sha(outputs.lock)}`;
    await client.pushBlob(digest, outputs.lock, readFileSync(outputs.lock).length);
    await client.pushBlob(
      "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      Buffer.from("{}"),
      2,
    );
    const evil = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.empty.v1+json",
        digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        size: 2,
      },
      layers: [
        {
          mediaType: "text/plain",
          digest,
          size: readFileSync(outputs.lock).length,
          annotations: { "org.opencontainers.image.title": "../escaped" },
        },
      ],
    };
    await client.putManifest("1", Buffer.from(JSON.stringify(evil)));
    const out = join(dir, "evil-out");
    const r = await mkbundleAsync(["pull", `${open.host}/team/evil:1`, "--plain-http", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/layer 0 has no title that can be a file name \("\.\.\/escaped"\)/);
    expect(existsSync(join(dir, "escaped"))).toBe(false);
  }, 60_000);
});

describe("pull is all or nothing", () => {
  it("a 240-byte file name pushes and pulls back; a name with an escape or a newline is refused", async () => {
    const long = join(dir, "long", `${"n".repeat(236)}.lst`);
    mkdirSync(join(dir, "long"), { recursive: true });
    writeFileSync(long, "long\n");
    const ref = `${open.host}/team/long:1`;
    expect((await mkbundleAsync(["push", long, ref, "--plain-http"])).code).toBe(0);
    const out = join(dir, "long-out");
    const r = await mkbundleAsync(["pull", ref, "--plain-http", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).toEqual([`${"n".repeat(236)}.lst`]);
    for (const name of ["esc\x1b[31m.txt", "two\nlines.txt"]) {
      const f = join(dir, "long", name);
      writeFileSync(f, "x");
      const push = await mkbundleAsync(["push", f, `${open.host}/team/ctl:1`, "--plain-http"]);
      expect(push.code).toBe(2);
      expect(push.stderr).toContain("its name cannot be a layer title");
      expect(push.stderr).not.toContain("\x1b");
    }
  }, 60_000);

  it("a pull that cannot place every file leaves --out as it was", async () => {
    const ref = `${open.host}/team/whole:1`;
    expect((await mkbundleAsync(["push", outputs.lock, outputs.bundle, ref, "--plain-http"])).code).toBe(0);
    const out = join(dir, "whole-out");
    mkdirSync(join(out, "reg-bundle-dev.tar.gz"), { recursive: true }); // the second file's name is a directory
    writeFileSync(join(out, "reg.lock"), "the old lock\n");
    const r = await mkbundleAsync(["pull", ref, "--plain-http", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/reg-bundle-dev\.tar\.gz is a directory: pull replaces only files/);
    expect(readFileSync(join(out, "reg.lock"), "utf8")).toBe("the old lock\n");
    expect(readdirSync(out).sort()).toEqual(["reg-bundle-dev.tar.gz", "reg.lock"]);
    // A temp file of a pull that was killed is removed by the next one.
    writeFileSync(join(out, ".mkbundle-pull-999999999-0"), "partial");
    rmSync(join(out, "reg-bundle-dev.tar.gz"), { recursive: true });
    const again = await mkbundleAsync(["pull", ref, "--plain-http", "--out", out]);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["reg-bundle-dev.tar.gz", "reg.lock"]);
    expect(sha(join(out, "reg.lock"))).toBe(sha(outputs.lock));
  }, 60_000);
});

/** A build with a broken cache registry: the mirror's ISO, with one warning that says why. */
async function buildsFromMirrorDespite(host: string, runner: string, warning: string): Promise<void> {
  const r = await build([
    "--work-dir",
    join(dir, runner),
    "--out",
    join(dir, `out-${runner}`),
    "--cache-registry",
    `${host}/mkbundle/cache`,
    "--plain-http",
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr.match(/--cache-registry/g)).toHaveLength(1);
  expect(r.stderr).toContain(warning);
  expect(sha(r.stdout.trim())).toBe(sha(outputs.iso));
}

describe("--cache-registry: one registry, many runners", () => {
  it("the second runner (a fresh work dir) asks the mirror for nothing and builds the identical ISO", async () => {
    const cache = ["--cache-registry", `${open.host}/mkbundle/cache`, "--plain-http"];
    const first = await build(["--work-dir", join(dir, "runner1"), "--out", join(dir, "out1"), ...cache]);
    expect(first.code, first.stderr).toBe(0);
    mirror.log.length = 0;
    const second = await build(["--work-dir", join(dir, "runner2"), "--out", join(dir, "out2"), ...cache]);
    expect(second.code, second.stderr).toBe(0);
    expect(mirror.log).toEqual([]);
    expect(second.stderr).toMatch(new RegExp(`fetched Core-4\\.4\\.iso from ${open.host}/mkbundle/cache`));
    // The registry's bytes are counted in the summary like any download's.
    expect(second.stderr).toMatch(/\d+ files?, \d+ downloaded \((?!0 B)[\d.]+ [KM]iB\)/);
    expect(sha(second.stdout.trim())).toBe(sha(first.stdout.trim()));
    expect(sha(second.stdout.trim())).toBe(sha(outputs.iso));
  }, 180_000);

  it("with the registry stopped, the build still succeeds from the mirror, with one warning", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    await buildsFromMirrorDespite(
      dead,
      "runner3",
      `warning: --cache-registry ${dead}/mkbundle/cache: registry ${dead}: connection refused`,
    );
  }, 180_000);
});

describe("registries that never finish answering", () => {
  it("a cache registry that accepts and stays silent is given up after its first-byte timeout, with one warning", async () => {
    const held: Socket[] = [];
    const silent = createTcpServer((socket) => void held.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      await buildsFromMirrorDespite(host, "runner-silent", `registry ${host}: no answer within 5 s of asking`);
    } finally {
      held.forEach((s) => s.destroy());
      silent.close();
    }
  }, 180_000);

  it("a manifest dripped past --download-timeout is a one-line error, not a stack trace", async () => {
    const drip = createHttpServer((req, res) => {
      if (!req.url?.includes("/manifests/")) return void res.writeHead(200).end();
      res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
      const timer = setInterval(() => res.write(" "), 200);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((r) => drip.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(drip.address() as { port: number }).port}`;
    try {
      const out = join(dir, "pulled-drip");
      mkdirSync(out, { recursive: true });
      const r = await mkbundleAsync([
        "pull",
        `${host}/team/reg:1`,
        "--plain-http",
        "--out",
        out,
        "--download-timeout",
        "2",
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`registry ${host}: its answer did not arrive whole within 2 s`));
      expect(r.stderr).not.toMatch(/TimeoutError|\n\s+at /);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      drip.closeAllConnections();
      drip.close();
    }
  }, 60_000);
});

describe("logins", () => {
  it("a wrong password: exit 1 naming the registry and the user, the password never printed", async () => {
    const r = await mkbundleAsync(["push", outputs.lock, `${locked.host}/team/reg:1`, "--plain-http"], {
      env: { MKBUNDLE_REGISTRY_USERNAME: LOGIN.user, MKBUNDLE_REGISTRY_PASSWORD: "not-it" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`registry ${locked.host}: refused the login of user 'ci-runner'`));
    expect(r.stdout + r.stderr).not.toContain("not-it");
    const none = await mkbundleAsync(["push", outputs.lock, `${locked.host}/team/reg:1`, "--plain-http"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/asks for a login and none is set/);
  });

  it("the right login from a docker-style auth file pushes, pulls and shares the cache", async () => {
    const authFile = join(dir, "auth.json");
    writeFileSync(
      authFile,
      JSON.stringify({
        auths: { [locked.host]: { auth: Buffer.from(`${LOGIN.user}:${LOGIN.password}`).toString("base64") } },
      }),
    );
    const env = { REGISTRY_AUTH_FILE: authFile };
    const pushed = await mkbundleAsync(["push", outputs.lock, `${locked.host}/team/reg:1`, "--plain-http", "-v"], {
      env,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const out = join(dir, "pulled-auth");
    mkdirSync(out, { recursive: true });
    const pulled = await mkbundleAsync(["pull", `${locked.host}/team/reg:1`, "--plain-http", "--out", out], { env });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(sha(join(out, "reg.lock"))).toBe(sha(outputs.lock));
    const built = await build(
      [
        "--work-dir",
        join(dir, "runner4"),
        "--out",
        join(dir, "out4"),
        "--cache-registry",
        `${locked.host}/cache`,
        "--plain-http",
      ],
      env,
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).not.toMatch(/warning: --cache-registry/);
    for (const r of [pushed, pulled, built]) expect(r.stdout + r.stderr).not.toContain(LOGIN.password);
    expect(sh(`ls ${q(locked.data)}/docker/registry/v2/repositories`).toString()).toMatch(/cache/);
  }, 180_000);
});
