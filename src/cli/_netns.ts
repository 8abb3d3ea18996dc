// `netns list|add|delete`: ip netns's named namespaces (/run/netns), through the route layer's
// createNetns() and deleteNetns().

import { errnoDescription } from "../_errno.ts";
import { shown } from "../_options.ts";
import { SyscallError } from "../errors.ts";
import { openRoute } from "../route/client.ts";
import { createNetns, deleteNetns } from "../route/netns.ts";
import { type Global, json, type Output, socketOptions, UsageError, verb } from "./_args.ts";
import { netnsIds } from "./_ip.ts";

/** ip netns's subcommands in the order its do_netns tries them (matches(): "a" is add). */
const NETNS_SUBCOMMANDS = [
  ...["list", "show", "lst", "list-id", "help", "add", "set", "delete", "identify", "pids"],
  ...["exec", "monitor", "attach"],
];

/**
 * `netns [list]` (each name, with ` (id: N)` where the namespace has an id here, as ip's
 * netns_list; `--json`: `name` and `id`), `netns add NAME`, `netns delete NAME`: nothing printed
 * on success, ip's words and status 1 when the name is taken or not there.
 */
export async function netnsCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [action, rest] = verb(args, ["show", "add", "delete"], NETNS_SUBCOMMANDS);
  if (action === "show") {
    if (rest.length) throw new UsageError(`netns list takes nothing, not ${shown(rest[0])}`);
    await using ip = await openRoute(socketOptions(global));
    const listed = (await netnsIds(ip)).map(([name, id]) =>
      id !== undefined && id >= 0 ? { name, id } : { name }
    );
    if (global.json) return json(global, out, listed);
    for (const { name, id } of listed as { name: string; id?: number }[]) {
      out(id === undefined ? name : `${name} (id: ${id})`);
    }
    return;
  }
  const [name, ...extra] = rest;
  // As ip: status 1.
  if (name === undefined) throw new Error("No netns name specified");
  if (extra.length) throw new UsageError(`netns ${action} takes one name, not ${shown(extra[0])}`);
  // As ip's invalid_name(): a name that could not be a file in /run/netns is its usage error.
  if (name.includes("/") || name === "." || name === ".." || name.length === 0) {
    throw new UsageError(`Invalid netns name ${shown(name)}`);
  }
  try {
    if (action === "add") createNetns(name);
    else deleteNetns(name);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    // ip's words, status 1.
    const verbText = action === "add" ? "create" : "remove";
    throw new Error(
      `Cannot ${verbText} namespace file ${shown(`/run/netns/${name}`)}: `
        + errnoDescription(error.errno),
    );
  }
}
