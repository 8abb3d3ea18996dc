/**
 * Classic BPF (struct sock_filter programs) for the fake kernel: checked as the kernel's
 * bpf_check_classic checks them, and run on a datagram as sk_filter runs them. Loads read the
 * datagram big-endian, as on the wire; ancillary loads (SKF_AD_*) are not modelled and drop.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";

/** One instruction. */
export interface Instruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

const MAX_INSTRUCTIONS = 4096;
const MEMWORDS = 16;

/** Decodes struct sock_filter bytes (host byte order); undefined if the kernel would refuse it. */
export function checkProgram(bytes: Uint8Array): Instruction[] | undefined {
  if (bytes.length === 0 || bytes.length % 8 !== 0 || bytes.length / 8 > MAX_INSTRUCTIONS) {
    return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    program.push({
      code: view.getUint16(at, HOST_LITTLE_ENDIAN),
      jt: view.getUint8(at + 2),
      jf: view.getUint8(at + 3),
      k: view.getUint32(at + 4, HOST_LITTLE_ENDIAN),
    });
  }
  for (const [pc, { code, jt, jf, k }] of program.entries()) {
    const cls = code & 0x07;
    const left = program.length - pc - 1;
    if (!VALID_CODES.has(code)) return undefined;
    // Jumps stay inside the program.
    if (cls === 0x05 && ((code & 0xf0) === 0x00 ? k >= left : jt >= left || jf >= left)) {
      return undefined;
    }
    const usesMemory = cls === 0x02 || cls === 0x03
      || ((cls === 0x00 || cls === 0x01) && (code & 0xe0) === 0x60);
    if (usesMemory && k >= MEMWORDS) return undefined;
    if ((code === 0x34 || code === 0x94) && k === 0) return undefined; // div, mod by constant 0
  }
  if ((program[program.length - 1].code & 0x07) !== 0x06) return undefined; // must end in a RET
  return program;
}

// Every opcode classic BPF defines (linux/filter.h, bpf_common.h).
const VALID_CODES = new Set<number>([
  0x00,
  0x20,
  0x28,
  0x30,
  0x40,
  0x48,
  0x50,
  0x60,
  0x80, // LD
  0x01,
  0x61,
  0x81,
  0xb1, // LDX
  0x02,
  0x03, // ST, STX
  0x04,
  0x0c,
  0x14,
  0x1c,
  0x24,
  0x2c,
  0x34,
  0x3c,
  0x44,
  0x4c,
  0x54,
  0x5c,
  0x64,
  0x6c,
  0x74,
  0x7c,
  0x84,
  0x94,
  0x9c,
  0xa4,
  0xac, // ALU
  0x05,
  0x15,
  0x1d,
  0x25,
  0x2d,
  0x35,
  0x3d,
  0x45,
  0x4d, // JMP
  0x06,
  0x0e,
  0x16, // RET K, X, A
  0x07,
  0x87, // TAX, TXA
]);

/** Runs `program` on `data`: the bytes to keep (0: drop it), as sk_filter trims. */
export function runProgram(program: readonly Instruction[], data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const mem = new Uint32Array(MEMWORDS);
  let a = 0, x = 0;
  const load = (at: number, size: number): number | undefined => {
    if (at < 0 || at + size > data.length) return undefined;
    return size === 4 ? view.getUint32(at) : size === 2 ? view.getUint16(at) : view.getUint8(at);
  };
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc];
    const size = [4, 2, 1][(code >> 3) & 3] ?? 4;
    switch (code & 0x07) {
      case 0x00: { // LD
        const mode = code & 0xe0;
        let v: number | undefined;
        if (mode === 0x00) v = k;
        else if (mode === 0x20) v = load(k | 0, size);
        else if (mode === 0x40) v = load((x + k) | 0, size);
        else if (mode === 0x60) v = mem[k];
        else if (mode === 0x80) v = data.length;
        if (v === undefined) return 0;
        a = v >>> 0;
        break;
      }
      case 0x01: { // LDX
        const mode = code & 0xe0;
        if (mode === 0x00) x = k;
        else if (mode === 0x60) x = mem[k];
        else if (mode === 0x80) x = data.length;
        else {
          const b = load(k | 0, 1); // MSH: 4 * (byte & 0xf)
          if (b === undefined) return 0;
          x = (b & 0x0f) * 4;
        }
        break;
      }
      case 0x02:
        mem[k] = a;
        break;
      case 0x03:
        mem[k] = x;
        break;
      case 0x04: { // ALU
        const src = code & 0x08 ? x : k;
        switch (code & 0xf0) {
          case 0x00:
            a = (a + src) >>> 0;
            break;
          case 0x10:
            a = (a - src) >>> 0;
            break;
          case 0x20:
            a = Math.imul(a, src) >>> 0;
            break;
          case 0x30:
            if (src === 0) return 0;
            a = Math.floor(a / src) >>> 0;
            break;
          case 0x40:
            a = (a | src) >>> 0;
            break;
          case 0x50:
            a = (a & src) >>> 0;
            break;
          case 0x60:
            a = src >= 32 ? 0 : (a << src) >>> 0;
            break;
          case 0x70:
            a = src >= 32 ? 0 : a >>> src;
            break;
          case 0x80:
            a = -a >>> 0;
            break;
          case 0x90:
            if (src === 0) return 0;
            a = (a % src) >>> 0;
            break;
          case 0xa0:
            a = (a ^ src) >>> 0;
            break;
        }
        break;
      }
      case 0x05: { // JMP
        const src = code & 0x08 ? x : k;
        let taken: boolean;
        switch (code & 0xf0) {
          case 0x00:
            pc += k;
            continue;
          case 0x10:
            taken = a === src;
            break;
          case 0x20:
            taken = a > src;
            break;
          case 0x30:
            taken = a >= src;
            break;
          default:
            taken = (a & src) !== 0;
            break;
        }
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: { // RET
        const rval = code & 0x10 ? a : code & 0x08 ? x : k;
        return Math.min(rval >>> 0, data.length);
      }
      case 0x07:
        if (code & 0x80) a = x;
        else x = a;
        break;
    }
  }
  return 0;
}
