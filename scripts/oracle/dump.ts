// One oracle program's WriteFile findings: sink, function, severity, reachability, trigger kind,
// per-checkpoint verdict with its reason, and the gates. For reading a soundness bug.
//   node --import tsx scripts/oracle/dump.ts <program set dir> p00042
import { scanProgram, sinkOf } from '../../test/helpers/oracle.ts';

const [dir, id] = process.argv.slice(2);
if (!dir || !id) {
  console.error('usage: node --import tsx scripts/oracle/dump.ts <program set dir> <program id>');
  process.exit(2);
}
const report = await scanProgram(dir, { id, attempt: 0, sinks: [], counter: false });
for (const f of report.findings.filter((x) => x.op === 'WriteFile')) {
  console.log(`${f.id} ${sinkOf(f)} in ${f.function}: ${f.severity}, ${f.reachability}, trigger ${f.trigger.kind}`);
  for (const a of f.trigger.activation) console.log(`    ${a.checkpoint}: ${a.state} — ${a.reason.slice(0, 300)}`);
  for (const g of f.trigger.gates) console.log(`    gate ${g.op} ${g.branch} [${g.predicate.source}] ${g.predicate.expression.slice(0, 200)}`);
}
for (const e of report.errors) console.log(`error: ${e.message}`);
