// What a save does to a running dev guest: only files' bytes and modes changed -> those files
// are sent (as they were when the overlay was built) and the services they concern restart;
// anything else reboots, with the reason.
import { describe, expect, it } from "vitest";
import { imageState, liveChange } from "../../src/dev/live-change.js";
import type { ResolvedManifest } from "../../src/manifest/types.js";
import { fileEntry, readContent, type Entry } from "../../src/tree/entry.js";

const manifest = (more: Partial<ResolvedManifest> = {}): ResolvedManifest =>
  ({
    name: "m",
    flavour: "dev",
    epoch: 0,
    extensions: { builtin: [], mirror: [], local: [] },
    files: [{ path: "/etc/a", mode: "0644", owner: "0:0", content: "a" }],
    services: [
      { name: "web", run: "x", log: "/dev/console" },
      { name: "db", run: "y", log: "/dev/console", reload_on: ["etc/db/**"] },
      { name: "marker", run: "z", log: "/dev/console", reload_on: [] },
    ],
    ...more,
  }) as unknown as ResolvedManifest;
const file = (path: string, text: string, mode = 0o644) => fileEntry(path, Buffer.from(text), 0, mode);
const state = (m: ResolvedManifest, ...entries: Entry[]) => imageState(m, entries);

describe("liveChange", () => {
  it("a file's new bytes: sent as built, and every service without reload_on restarts", () => {
    const was = state(manifest(), file("etc/a", "one"), file("etc/db/conf", "x"));
    const now = state(manifest(), file("etc/a", "two"), file("etc/db/conf", "x"));
    const change = liveChange(was, now);
    expect(change.live).toBe(true);
    if (!change.live) return;
    expect(change.changed.map((e) => [e.path, readContent(e).toString()])).toEqual([["etc/a", "two"]]);
    expect(change.restart).toEqual(["web"]);
  });

  it("reload_on picks the services a path concerns; a service's own command file restarts it", () => {
    const was = state(manifest(), file("etc/db/conf", "x"), file("opt/mkbundle/services/marker.run", "a"));
    const db = liveChange(
      was,
      state(manifest(), file("etc/db/conf", "y"), file("opt/mkbundle/services/marker.run", "a")),
    );
    expect(db).toMatchObject({ live: true, restart: ["web", "db"] });
    const marker = liveChange(
      was,
      state(manifest(), file("etc/db/conf", "x"), file("opt/mkbundle/services/marker.run", "b")),
    );
    expect(marker).toMatchObject({ live: true, restart: ["web", "marker"] });
  });

  it("a mode is a live change; the same bytes and mode are no change", () => {
    const was = state(manifest(), file("etc/a", "one"));
    expect(liveChange(was, state(manifest(), file("etc/a", "one", 0o755)))).toMatchObject({ live: true });
    expect(liveChange(was, state(manifest(), file("etc/a", "one")))).toEqual({ live: true, changed: [], restart: [] });
  });

  it("the bytes compared are those of build time, even when the source changes after", () => {
    let text = "one";
    const lazy: Entry = {
      ...file("etc/a", "one"),
      content: () => ({ size: 3, read: () => Buffer.from(text), close: () => {} }),
    };
    const was = state(manifest(), lazy);
    text = "two";
    expect(liveChange(was, state(manifest(), file("etc/a", "two")))).toMatchObject({ live: true, restart: ["web"] });
  });

  it("anything else reboots, saying why", () => {
    const was = state(manifest(), file("etc/a", "one"));
    expect(
      liveChange(
        was,
        state(manifest({ extensions: { builtin: ["bash"], mirror: [], local: [] } }), file("etc/a", "one")),
      ),
    ).toEqual({ live: false, why: "extensions changed" });
    const added = manifest({
      files: [...manifest().files, { path: "/etc/b", mode: "0644", owner: "0:0", content: "b" }],
    });
    expect(liveChange(was, state(added, file("etc/a", "one"), file("etc/b", "b")))).toEqual({
      live: false,
      why: "files: /etc/b added",
    });
    expect(liveChange(was, state(manifest(), file("etc/a", "one"), file("etc/c", "c")))).toEqual({
      live: false,
      why: "/etc/c is new in the image",
    });
    const link: Entry = {
      path: "etc/a",
      type: "symlink",
      mode: 0o777,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
      linkTarget: "b",
    };
    expect(liveChange(was, state(manifest(), link))).toEqual({ live: false, why: "/etc/a is now a symlink" });
  });
});
