import { readFileSync } from "node:fs";
import type { Socket } from "node:net";

export interface DiskIo {
  readBytes: number;
  writeBytes: number;
}

/**
 * Bytes this process made the storage layer read and write (Linux /proc/self/io `read_bytes`,
 * `write_bytes`). Undefined where the file does not exist (macOS, Windows, some sandboxes).
 */
export function readDiskIo(path = "/proc/self/io"): DiskIo | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const read = /^read_bytes:\s*(\d+)/m.exec(text);
  const write = /^write_bytes:\s*(\d+)/m.exec(text);
  if (!read || !write) return undefined;
  return { readBytes: Number(read[1]), writeBytes: Number(write[1]) };
}

type Tracked = Socket & Record<symbol, number | undefined>;

/**
 * Bytes received and sent on the HTTP server sockets that carried instrumented requests, from
 * socket.bytesRead / bytesWritten deltas. Deltas are taken when a socket closes and on every
 * collect (scrape), so long-lived keep-alive sockets are counted as they go.
 */
export class NetworkTracker {
  // Per-tracker symbols: two trackers (two createMetrics) can follow the same socket independently.
  readonly #seenRead = Symbol("uaip.seenBytesRead");
  readonly #seenWritten = Symbol("uaip.seenBytesWritten");
  #live = new Set<Tracked>();
  #received = 0;
  #sent = 0;
  readonly #onClose: (this: Tracked) => void;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const tracker = this;
    // One shared listener for every socket (no closure per connection); `this` is the socket.
    this.#onClose = function (this: Tracked) {
      tracker.#account(this);
      tracker.#live.delete(this);
    };
  }

  /** Starts following a socket (idempotent, cheap: one property check once tracked). */
  track(socket: Socket | undefined | null): void {
    const s = socket as Tracked | undefined | null;
    if (!s || s[this.#seenRead] !== undefined) return;
    s[this.#seenRead] = 0;
    s[this.#seenWritten] = 0;
    this.#live.add(s);
    s.once("close", this.#onClose);
  }

  /** Totals so far, bytes. */
  totals(): { received: number; sent: number } {
    for (const s of this.#live) this.#account(s);
    return { received: this.#received, sent: this.#sent };
  }

  #account(s: Tracked): void {
    const read = s.bytesRead;
    const written = s.bytesWritten;
    this.#received += read - (s[this.#seenRead] ?? 0);
    this.#sent += written - (s[this.#seenWritten] ?? 0);
    s[this.#seenRead] = read;
    s[this.#seenWritten] = written;
  }

  /** Stops following every socket (they stay open; only our listeners go). */
  close(): void {
    for (const s of this.#live) s.off("close", this.#onClose);
    this.#live.clear();
  }
}
