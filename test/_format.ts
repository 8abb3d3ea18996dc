// Addresses as iproute2 prints them, to compare decoded binary attributes with `ip -j`.

/** "10.1.2.3", or RFC 5952 IPv6 ("2001:db8::1"), from 4 or 16 bytes. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join(".");
  if (bytes.length !== 16) throw new RangeError(`not an IP address: ${bytes.length} bytes`);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // The longest run (of two or more) of zero words becomes "::".
  let best = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}

/** "02:00:00:00:00:09" */
export function formatMac(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** 4 bytes of an IPv4 address from its dotted form. */
export function ipv4(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map(Number));
}

/** An IPv4 address as a big-endian u32 (how some families carry it). */
export function ipv4Number(text: string): number {
  return text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}
