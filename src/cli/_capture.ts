// `--capture FILE`: one pcap file for every socket a command opens. Each socket gets its own
// capture() (the library's nlmon-format writer); their records go into the one file, after a
// single pcap file header.

import { type FileWriter, openFile } from "../../ffi/mod.ts";
import { captureFullWarning } from "../_capture_warning.ts";
import type { CaptureTarget } from "../capture.ts";
import { warn } from "./_args.ts";

/** The 24-byte pcap file header each capture() stream starts with. */
const PCAP_FILE_HEADER = 24;

/** The capture file of one run of the tool. */
export class CaptureFile {
  readonly #file: FileWriter;
  readonly #path: string;
  #headerWritten = false;
  #warned = false;

  /** Creates (or truncates) `path`; throws SyscallError when it cannot. */
  constructor(path: string) {
    this.#file = openFile(path);
    this.#path = path;
  }

  /**
   * A capture target for one more socket: the file header of its stream goes to the file only
   * if none has yet, its records always. Give each socket its own.
   */
  target(): CaptureTarget {
    let skip = this.#headerWritten ? PCAP_FILE_HEADER : 0;
    this.#headerWritten = true;
    return (chunk) => {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        return;
      }
      if (!this.#file.write(skip === 0 ? chunk : chunk.subarray(skip)) && !this.#warned) {
        this.#warned = true;
        warn(captureFullWarning(this.#path));
      }
      skip = 0;
    };
  }

  /** Closes the file (its writes went through already). */
  close(): void {
    this.#file.close();
  }
}
