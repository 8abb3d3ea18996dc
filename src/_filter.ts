/**
 * Classic BPF programs for attachFilter: struct sock_filter arrays, encoded and checked.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { checkOptions, integerFieldError } from "./_options.ts";

/**
 * One classic BPF instruction (struct sock_filter), as `tcpdump -dd` prints them and the
 * kernel's BPF_STMT/BPF_JUMP macros build them. For {@linkcode NetlinkSocket.attachFilter}.
 *
 * @example
 * ```ts
 * import type { FilterInstruction } from "@netlink/netlink";
 * const acceptAll: FilterInstruction[] = [{ code: 0x06, jt: 0, jf: 0, k: 0xffff_ffff }]; // ret #-1
 * ```
 */
export interface FilterInstruction {
  /** Operation (BPF_LD | BPF_W | BPF_ABS...), u16. */
  readonly code: number;
  /** Jump offset if true, u8. */
  readonly jt: number;
  /** Jump offset if false, u8. */
  readonly jf: number;
  /** Operand, u32. */
  readonly k: number;
}

// Every key of an instruction and nothing else (`satisfies`): a misspelt one is refused.
const INSTRUCTION_KEYS = Object.keys(
  { code: 0, jt: 0, jf: 0, k: 0 } satisfies Record<keyof FilterInstruction, 0>,
);

/** Most instructions in a classic BPF program (BPF_MAXINSNS). */
const FILTER_MAX_INSTRUCTIONS = 4096;

/** struct sock_filter[] in host byte order, validated. */
export function encodeFilter(program: readonly FilterInstruction[] | Uint8Array): Uint8Array {
  if (program instanceof Uint8Array) {
    if (program.length === 0 || program.length % 8 !== 0) {
      throw new RangeError(
        `a filter program is 8 bytes per instruction, got ${program.length} bytes`,
      );
    }
    if (program.length / 8 > FILTER_MAX_INSTRUCTIONS) {
      throw new RangeError(`a filter has at most ${FILTER_MAX_INSTRUCTIONS} instructions`);
    }
    return program;
  }
  if (!Array.isArray(program) || program.length === 0) {
    throw new TypeError("a filter program is a non-empty array of { code, jt, jf, k }");
  }
  if (program.length > FILTER_MAX_INSTRUCTIONS) {
    throw new RangeError(
      `a filter has at most ${FILTER_MAX_INSTRUCTIONS} instructions, got ${program.length}`,
    );
  }
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    if (typeof insn === "object" && insn !== null) {
      checkOptions(`filter instruction ${i}`, insn, INSTRUCTION_KEYS);
    }
    const field = (name: string, value: unknown, max: number) => {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
        throw integerFieldError(
          value,
          `filter instruction ${i}: ${name} must be an integer from 0 to ${max}, got ${
            String(value)
          }`,
        );
      }
      return value;
    };
    view.setUint16(i * 8, field("code", insn?.code, 0xffff), HOST_LITTLE_ENDIAN);
    view.setUint8(i * 8 + 2, field("jt", insn?.jt, 0xff));
    view.setUint8(i * 8 + 3, field("jf", insn?.jf, 0xff));
    view.setUint32(i * 8 + 4, field("k", insn?.k, 0xffff_ffff), HOST_LITTLE_ENDIAN);
  });
  return bytes;
}
