// The host half of mkbundle dev's live updates: which channel the base allows, QEMU's
// arguments for it, and sending one update (receiver.ts has the guest half). 9p: the update
// is written into a directory QEMU shares read-only (the archive first, then the header file
// that names it, each renamed into place). Serial: the header line and the archive's bytes
// go to QEMU's second serial port through a Unix socket QEMU listens on.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { FileTree } from "../tree/file-tree.js";
import { gzipStream } from "../formats/gzip/writer.js";
import { tar } from "../formats/tar/codec.js";
import type { Entry } from "../tree/entry.js";
import { availableModules } from "../tinycore/modules.js";
import { MAX_UPDATE, SHARE_TAG, type Channel } from "./receiver.js";

/** 9p when the base's kernel has the modules a 9p share over virtio needs (as modules or built in). */
export async function chooseChannel(base: FileTree): Promise<{ channel: Channel; why: string }> {
  const have = await availableModules(base, undefined);
  const missing = ["9p", "9pnet_virtio", "virtio_pci"].filter((m) => !have.has(m));
  return missing.length
    ? { channel: "serial", why: `the second serial port (the base's kernel has no ${missing.join(", ")} module)` }
    : { channel: "9p", why: "a read-only 9p share (the base has the 9p and virtio modules)" };
}

interface Update {
  seq: number;
  archive: Buffer;
  restart: readonly string[];
}

/** The header the receiver checks: SEQ, the SHA-1 of token + newline + archive, SIZE, SERVICES. */
function updateHeader(u: Update, token: string): string {
  const sum = createHash("sha1").update(`${token}\n`).update(u.archive).digest("hex");
  return `${u.seq} ${sum} ${u.archive.length} ${u.restart.length ? u.restart.join(",") : "-"}`;
}

export interface HostChannel {
  channel: Channel;
  /** Added to each boot's QEMU command line. */
  qemuArgs: string[];
  /** After QEMU started: connect to it (serial). */
  attach(): void;
  send(u: Update): Promise<void>;
  close(): void;
}

export function hostChannel(channel: Channel, dir: string, token: string): HostChannel {
  if (channel === "9p") {
    const share = join(dir, "share");
    mkdirSync(share, { recursive: true });
    return {
      channel,
      qemuArgs: ["-virtfs", `local,path=${share},mount_tag=${SHARE_TAG},security_model=none,readonly=on`],
      attach: () => {},
      send: async (u) => {
        if (u.archive.length > MAX_UPDATE) throw new Error(`an update of ${u.archive.length} bytes`);
        const name = `update-${u.seq}.tar.gz`;
        writeFileSync(join(share, `${name}.tmp`), u.archive);
        renameSync(join(share, `${name}.tmp`), join(share, name));
        writeFileSync(join(share, "update.tmp"), `${updateHeader(u, token)}\n`);
        renameSync(join(share, "update.tmp"), join(share, "update"));
        // Older archives: the receiver has read them (or never will).
        for (const f of readdirSync(share))
          if (/^update-\d+\.tar\.gz$/.test(f) && f !== name && Number(f.slice(7, -7)) < u.seq - 1)
            rmSync(join(share, f), { force: true });
      },
      close: () => {},
    };
  }
  const path = join(dir, "serial.sock");
  let socket: Socket | undefined;
  return {
    channel,
    qemuArgs: ["-chardev", `socket,id=mkdev,path=${path},server=on,wait=off`, "-serial", "chardev:mkdev"],
    attach() {
      socket?.destroy();
      socket = undefined;
      const started = Date.now();
      const tryConnect = () => {
        if (!existsSync(path)) {
          if (Date.now() - started < 10_000) setTimeout(tryConnect, 50).unref();
          return;
        }
        const s = connect(path);
        s.on("error", () => {}); // QEMU gone: the next boot attaches again
        s.resume(); // the receiver's answers are not needed: the console says what it applied
        socket = s;
      };
      tryConnect();
    },
    send: (u) =>
      new Promise((resolve, reject) => {
        if (!socket || socket.destroyed) return reject(new Error("the guest's second serial port is not connected"));
        if (u.archive.length > MAX_UPDATE) return reject(new Error(`an update of ${u.archive.length} bytes`));
        socket.write(`MKBUNDLE-DEV ${updateHeader(u, token)}\n`);
        socket.write(u.archive, (e) => (e ? reject(e) : resolve()));
      }),
    close: () => socket?.destroy(),
  };
}

/** The changed files as the tar.gz the receiver extracts over /. */
export async function updateArchive(changed: readonly Entry[], epoch: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gzipStream(tar.write(changed, { epoch }).stream())) parts.push(c);
  return Buffer.concat(parts);
}
