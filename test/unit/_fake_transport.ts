// The old fake transport's interface, for tests written against it (test/route/kinds_test.ts
// on the route and tccli branches): a FakeSocket of a fake kernel of its own, whose `onSend`
// answers by hand. New tests use the fake kernel directly (./_fake.ts, src/testing/).

import type { Message } from "../../src/message.ts";
import { FakeKernel, FakeSocket } from "../../src/testing/mod.ts";
import type { TransportOptions } from "../../src/transport.ts";

export { ack, done, reply } from "./_fake.ts";

/** A FakeSocket on its own kernel; `onSend` sees each message sent to the kernel. */
export class FakeTransport extends FakeSocket {
  constructor(protocol: number, options: TransportOptions) {
    super(new FakeKernel(), protocol, options.portid || 4242, 100, 212_992);
    this.script = () => {};
  }

  /** Answers the messages sent to the kernel by hand (with `deliver`). */
  set onSend(answer: (message: Message, transport: FakeTransport) => void) {
    this.script = (message) => answer(message, this);
  }
}
