// Prints readPsched() as JSON: run by tc_test.ts under Deno without --allow-read.
import { readPsched } from "../../src/route/tc_units.ts";
console.log(JSON.stringify(readPsched()));
