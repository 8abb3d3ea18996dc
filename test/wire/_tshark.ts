// tshark, installed from Debian's package when missing, to read captures the way users will.

import { execFileSync } from "node:child_process";

let installed = false;

/** Installs tshark with apt-get if it is not on PATH (the tests run as root on Debian). */
export function ensureTshark(): void {
  if (installed) return;
  try {
    execFileSync("tshark", ["-v"], { stdio: "ignore" });
  } catch {
    const apt = (...args: string[]) =>
      execFileSync("apt-get", args, {
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        stdio: "ignore",
      });
    try {
      apt("install", "-y", "--no-install-recommends", "tshark");
    } catch {
      // A fresh machine may not have package lists yet.
      apt("update");
      apt("install", "-y", "--no-install-recommends", "tshark");
    }
  }
  installed = true;
}

/** `tshark -r FILE -T fields -e F...`: one row per frame, one column per field. */
export function tsharkFields(file: string, fields: string[]): string[][] {
  ensureTshark();
  const args = ["-r", file, "-T", "fields", ...fields.flatMap((f) => ["-e", f])];
  const out = execFileSync("tshark", args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.split("\n").filter((line) => line !== "").map((line) => line.split("\t"));
}

/** `tshark -r FILE -V`: the full decode, as text. */
export function tsharkVerbose(file: string): string {
  ensureTshark();
  return execFileSync("tshark", ["-r", file, "-V"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}
