// hello-kernel: the classic NETLINK_TEST user program. Sends a string to the project's kernel
// module (kernel-module/, unit 30 by default) and prints what the kernel sends back.
//
//   deno run --allow-ffi examples/hello_kernel.ts [MESSAGE]
//   bun examples/hello_kernel.ts [MESSAGE]
//
// Needs the module loaded: `test/vm/run -- node_modules/.bin/deno run --allow-ffi
// examples/hello_kernel.ts` runs it in a throwaway guest that has it.

import process from "node:process";
import { NLTEST_MSG_ECHO, NLTEST_UNIT_DEFAULT } from "../kernel-module/nltest_uapi.ts";
import { open } from "../mod.ts";

const text = process.argv[2] ?? "Hello from user space";
await using sock = await open(NLTEST_UNIT_DEFAULT);
console.log(`port ${sock.portid}: sending "${text}" to the kernel`);
// request() adds NLM_F_REQUEST|NLM_F_ACK, waits for the echo and the ack, and returns the echo.
const [reply] = await sock.request({
  type: NLTEST_MSG_ECHO,
  payload: new TextEncoder().encode(`${text}\0`),
});
const received = new TextDecoder().decode(reply.payload).replace(/\0+$/, "");
console.log(`kernel replied (seq ${reply.seq}, from port ${reply.sender}): "${received}"`);
