// Messages as udevd multicasts them (systemd's device_monitor_send_device()): the 40-byte
// libudev header, then `KEY=VALUE\0` properties. The magic and hashes are big-endian, the
// sizes in host order (little-endian here).

const encoder = new TextEncoder();

/** Header fields to override, to build broken messages. */
export interface UdevFields {
  magic?: number;
  offset?: number;
  length?: number;
  subsystemHash?: number;
  bloom?: bigint;
}

/** A udev monitor message carrying `properties` (NUL-separated `KEY=VALUE` text). */
export function udevMessage(properties: string, fields: UdevFields = {}): Uint8Array {
  const props = encoder.encode(properties);
  const bytes = new Uint8Array(40 + props.length);
  bytes.set(encoder.encode("libudev\0"));
  const view = new DataView(bytes.buffer);
  view.setUint32(8, fields.magic ?? 0xfeedcafe, false);
  view.setUint32(12, 40, true);
  view.setUint32(16, fields.offset ?? 40, true);
  view.setUint32(20, fields.length ?? props.length, true);
  view.setUint32(24, fields.subsystemHash ?? 0x11223344, false);
  view.setUint32(28, 0, false);
  view.setUint32(32, Number((fields.bloom ?? 0n) >> 32n), false);
  view.setUint32(36, Number((fields.bloom ?? 0n) & 0xffff_ffffn), false);
  bytes.set(props, 40);
  return bytes;
}
