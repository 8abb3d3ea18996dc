// The one wording of the warning that a capture's file or FIFO takes no more, apart from
// capture.ts so that the CLI's `--capture` writer can give it without loading capture.ts (which
// a script loads only when it asks for a capture).

import { printable } from "./_printable.ts";

/**
 * The warning, given once per capture, that the file or FIFO at `path` takes no more: records
 * are dropped. The one wording of it, for every writer of captures (capture(), the CLI's
 * `--capture`).
 */
export function captureFullWarning(path: string): string {
  return `netlink: capture target ${
    printable(path)
  } is full (a pipe its reader does not keep up with): dropping datagrams from the capture`;
}
