// The keys of OpenOptions, shared by open() and the clients that take its options with their
// own (openRoute()). Internal.

import type { OpenOptions } from "./open.ts";

// Every key of OpenOptions and nothing else (`satisfies`): open() refuses any other.
export const OPEN_KEYS: readonly string[] = Object.keys(
  {
    groups: 0,
    portid: 0,
    receiveBufferSize: 0,
    extendedAcks: 0,
    strictChecking: 0,
    capAcks: 0,
    noENOBUFS: 0,
    broadcastError: 0,
    listenAllNsid: 0,
    netns: 0,
    backlog: 0,
    unframed: 0,
    transport: 0,
    capture: 0,
  } satisfies Record<keyof OpenOptions, 0>,
);
