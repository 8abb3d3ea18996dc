/**
 * Netlink headers and most attributes are in host byte order: true on every platform Deno and
 * Bun run on, but checked rather than assumed. Shared by the codec and the FFI layer.
 *
 * @module
 */

/** True when this machine is little-endian (DataView's `littleEndian` for host order). */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
