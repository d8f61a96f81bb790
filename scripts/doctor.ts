// `npm run doctor`: one line per external tool the tests and the product use, found or missing
// with its install command. Exits 1 under CI (CI=true) when a tool that .ci/run installs is
// missing, so CI stops at the install step's fault instead of failing deep in the suite.
import { tools, toolStatus } from '../test/helpers/toolchain.ts';

const ci = process.env.CI === 'true';
let fatal = 0;
for (const tool of tools()) {
  const status = toolStatus(tool.id);
  if (status === true) {
    console.log(`found    ${tool.label}`);
    continue;
  }
  const required = ci && tool.ciInstalls;
  if (required) fatal++;
  console.log(`${required ? 'MISSING' : 'missing'}  ${tool.label}: ${status}; used by ${tool.usedBy}; install: ${tool.install}`);
}
if (fatal) {
  console.log(`doctor: ${fatal} tool(s) that .ci/run installs are missing (CI=true): fix .ci/run`);
  process.exitCode = 1; // not process.exit: the table above may still be on its way into a pipe
}
