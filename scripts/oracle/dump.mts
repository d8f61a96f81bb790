import { scanProgram, sinkOf } from '../../test/helpers/oracle.ts';
const [dir, id] = process.argv.slice(2);
const r = await scanProgram(dir, { id, attempt: 0, sinks: [], counter: false });
for (const f of r.findings) if (f.op === 'WriteFile') console.log(f.id, sinkOf(f), f.function, f.severity, f.reachability, f.trigger.kind, JSON.stringify(f.trigger.activation.map(a => [a.checkpoint, a.state, a.reason.slice(0, 150)])), f.trigger.gates.map(g => g.op + ':' + g.predicate.source + ':' + g.predicate.expression.slice(0, 80)).join(' | '));
