// `tfaudit report-vuln` and the app's "Vulnerability report" button: a Markdown draft, filled
// from one finding, with the sections TensorFlow's security guide asks reporters for (type of
// issue, affected locations, configuration, reproduction, proof of concept, impact).
// Model-controlled text only appears inside code spans/blocks or escaped, so a hostile node
// name cannot inject links or HTML into the draft.
import { ADVISORY_DATA_CREDIT, type Activation, type Finding } from '../../shared/findings.ts';
import type { SignatureIR } from '../../shared/ir.ts';
import { CAPABILITY_IMPACT, bySeverity, capabilityPhrase, type AuditDocument } from '../../shared/report.ts';
import { printable } from './printable.ts';
import { runCheckpointLabel, runVerdict } from '../sandbox/confirm.ts';

const ISSUE_TYPE: Record<string, { title: string; cwe: string }> = {
  'file-read': { title: 'Information disclosure: the model reads host files', cwe: 'CWE-200 (Exposure of Sensitive Information), CWE-73 (External Control of File Name or Path)' },
  'file-write': { title: 'Arbitrary file write from a model', cwe: 'CWE-73 (External Control of File Name or Path)' },
  'filesystem-enumeration': { title: 'Information disclosure: the model lists host directories', cwe: 'CWE-548 (Exposure of Information Through Directory Listing)' },
  network: { title: 'Network access / data exfiltration from a model', cwe: 'CWE-918 (Server-Side Request Forgery)' },
  process: { title: 'Code execution: the model runs a process or native code', cwe: 'CWE-94 (Improper Control of Generation of Code)' },
  'python-code': { title: 'Code execution: the model runs embedded Python', cwe: 'CWE-94 (Improper Control of Generation of Code)' },
  'resource-exhaustion': { title: 'Denial of service: attacker-sized allocation in a model', cwe: 'CWE-400 (Uncontrolled Resource Consumption)' },
  'custom-op': { title: 'Untrusted native code: the model needs a custom op', cwe: 'CWE-829 (Inclusion of Functionality from Untrusted Control Sphere)' },
  policy: { title: 'Ops outside the allowed inference policy', cwe: 'CWE-284 (Improper Access Control)' },
  integrity: { title: 'Corrupt or tampered checkpoint', cwe: 'CWE-354 (Improper Validation of Integrity Check Value)' },
  'known-vulnerability': { title: 'Known TensorFlow kernel vulnerability reachable through the model', cwe: 'CWE-1395 (Dependency on Vulnerable Third-Party Component)' },
};

/** Known-vulnerability findings: the trigger is the data flow into the op, not a gate. */
function knownVulnerabilityTrigger(f: Finding): string {
  if (f.reachability === 'dead') return 'Nothing reaches the op as the model is saved.';
  if (f.trigger.kind === 'input') return "A caller's input reaches the op's inputs through the data flow, so a request can trigger the bug.";
  if (f.trigger.kind === 'variable') return 'Only variables feed the op: a crafted checkpoint triggers the bug.';
  return 'Only constants feed the op: a crafted model file triggers the bug.';
}

/** A Markdown code span that holds any text (fence longer than any backtick run inside). */
export function codeSpan(text: string): string {
  const safe = printable(text);
  const longest = Math.max(0, ...(safe.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = safe.startsWith('`') || safe.endsWith('`') || safe === '' ? ' ' : '';
  return `${fence}${pad}${safe}${pad}${fence}`;
}

/** Plain Markdown text with every markup character escaped. */
export function mdText(text: string): string {
  return printable(text).replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`);
}

function codeBlock(lines: string[], lang = ''): string {
  const body = lines.map(printable).join('\n');
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${body}\n${fence}`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function modelOwnCheckpoint(doc: AuditDocument, checkpoint: string): boolean {
  const base = doc.report.model.path.replace(/\/+$/, '');
  return checkpoint === `${base}/variables/variables` || checkpoint === '<model>/variables/variables';
}

/** The checkpoint to reproduce with: one that activates the finding, else the first examined. */
function triggeringActivation(f: Finding): Activation | null {
  return f.trigger.activation.find((a) => a.state === 'active') ?? null;
}

function where(f: Finding): string {
  return f.function ? `${f.function}/${f.node}` : f.node;
}

function inputExpr(sig: SignatureIR): string {
  const np: Record<string, string> = {
    DT_FLOAT: 'np.float32', DT_DOUBLE: 'np.float64', DT_INT32: 'np.int32', DT_INT64: 'np.int64',
    DT_BOOL: 'np.bool_', DT_STRING: 'np.str_', DT_HALF: 'np.float16', DT_UINT8: 'np.uint8', DT_INT8: 'np.int8',
  };
  return Object.entries(sig.inputs)
    .map(([key, info]) => {
      const dims = info.shape && !info.shape.unknownRank ? info.shape.dims.map((d) => (d < 0 ? 1 : d)) : [1];
      return `${key}=np.zeros((${dims.join(',')}${dims.length === 1 ? ',' : ''}),dtype=${np[info.dtype] ?? 'np.float32'})`;
    })
    .join(';');
}

/** The signature that reaches the finding (entry points read `signature: KEY`), else serving_default. */
function signatureToRun(doc: AuditDocument, f: Finding): SignatureIR | null {
  const wanted = f.entryPoints.map((e) => /^signature: (.+)$/.exec(e)?.[1] ?? e);
  const callable = doc.summary.metaGraphs.flatMap((m) => m.signatures).filter((s) => !s.key.startsWith('__'));
  return callable.find((s) => wanted.includes(s.key)) ?? callable.find((s) => s.key === 'serving_default') ?? null;
}

function section(title: string, body: string[]): string {
  return [`## ${title}`, '', ...body].join('\n');
}

function typeOfIssue(f: Finding): string[] {
  const type = ISSUE_TYPE[f.capability] ?? { title: f.capability, cwe: '' };
  const trigger =
    f.capability === 'known-vulnerability'
      ? knownVulnerabilityTrigger(f)
      : f.trigger.kind === 'variable'
      ? 'It is gated by control flow whose predicate reads model variables, so the checkpoint (the weights) decides whether it runs: a checkpoint swap can switch it on without changing the graph.'
      : f.trigger.kind === 'environment'
        ? `It is gated by control flow whose predicate reads the run-time environment (${(f.trigger.environment ?? []).join('; ')}): the clock, a random draw or data read at run time decides whether it runs, nothing a reviewer of the model can check.`
        : f.trigger.kind === 'input'
        ? 'It is gated by control flow whose predicate reads signature inputs, so a request can switch it on.'
        : f.trigger.kind === 'constant'
          ? 'It is gated by control flow with a constant predicate.'
          : 'It runs unconditionally whenever its entry point runs.';
  return [
    `**${type.title}.** ${mdText(f.message)}`,
    '',
    `- Capability: ${codeSpan(f.capability)} (${capabilityPhrase(f.capability)})`,
    `- Severity assessed by the audit: **${f.severity}**; rule ${codeSpan(f.rule)}`,
    ...(type.cwe ? [`- Weakness: ${type.cwe}`] : []),
    `- Trigger: ${f.trigger.kind}. ${trigger}`,
  ];
}

function affected(doc: AuditDocument, f: Finding): string[] {
  const { model } = doc.report;
  const lines = [
    `- Model: ${codeSpan(model.path)} (format ${codeSpan(model.format)})`,
    `- Unsafe op: ${codeSpan(f.op)} at node ${codeSpan(where(f))}${f.metaGraph ? ` in meta graph ${codeSpan(f.metaGraph)}` : ''}`,
    `- Function: ${f.function ? codeSpan(f.function) : 'top-level graph'}`,
    `- When it runs: ${f.reachability}${f.entryPoints.length > 0 ? `, reached from ${f.entryPoints.map(codeSpan).join(', ')}` : ''}`,
  ];
  for (const g of f.trigger.gates) {
    lines.push(
      `- Gate: ${codeSpan(`${g.function ? `${g.function}/` : ''}${g.node}`)} (${codeSpan(g.op)}) must take ${codeSpan(g.branch)}${g.branchFunction ? ` → ${codeSpan(g.branchFunction)}` : ''}`,
    );
  }
  if (f.trigger.variables.length > 0) lines.push(`- Controlling variables (checkpoint keys): ${f.trigger.variables.map(codeSpan).join(', ')}`);
  lines.push('', '| File | Size (bytes) | SHA-256 |', '| --- | ---: | --- |');
  for (const file of model.files) lines.push(`| ${codeSpan(file.path).replace(/\|/g, '\\|')} | ${file.size} | ${codeSpan(file.sha256)} |`);
  return lines;
}

function configuration(doc: AuditDocument, f: Finding): string[] {
  const { report, summary } = doc;
  const producers = [...new Set(summary.metaGraphs.map((m) => m.producer).filter((p) => p !== null))];
  const active = triggeringActivation(f);
  const lines = [
    `- TensorFlow version recorded in the model: ${codeSpan(report.model.tensorflowVersion ?? summary.tensorflowVersion ?? 'unknown')}${producers.length > 0 ? ` (GraphDef producer ${producers.join(', ')})` : ''}`,
  ];
  if (f.capability === 'known-vulnerability') {
    lines.push(`- TensorFlow release serving the model: ${codeSpan(report.analysis.tensorflowRuntime ?? 'not given')}`);
    for (const a of f.advisories ?? []) lines.push(`- Advisory ${codeSpan(a.id)} (${a.aliases.map(codeSpan).join(', ')}): ${mdText(a.class)}, ${a.fixedIn ? `fixed in ${codeSpan(a.fixedIn)}` : 'no fixed release recorded'}: ${a.url}`);
    if (f.advisories?.length) lines.push(`- ${ADVISORY_DATA_CREDIT}`);
    lines.push(f.trigger.kind === 'input' ? `- An input to ${f.entryPoints.map(codeSpan).join(', ') || 'the model'} crafted as the advisory describes.` : '- A model or checkpoint crafted as the advisory describes.');
  } else if (active) {
    lines.push(`- Checkpoint that triggers it: ${codeSpan(active.checkpoint)}${modelOwnCheckpoint(doc, active.checkpoint) ? " (the model's own variables)" : ''}`);
    for (const [k, v] of Object.entries(active.values)) lines.push(`  - ${codeSpan(k)} = ${codeSpan(v)}`);
  } else if (f.trigger.kind === 'variable') {
    lines.push(
      `- No examined checkpoint activates it (${f.trigger.activation.map((a) => `${codeSpan(a.checkpoint)}: ${a.state}`).join('; ') || 'none examined'}). A checkpoint whose values make ${f.trigger.gates.map((g) => codeSpan(g.predicate.expression)).join(' and ')} select the branch above does.`,
    );
  } else if (f.trigger.kind === 'environment') {
    lines.push(`- No special checkpoint: the run-time source (${(f.trigger.environment ?? []).map(codeSpan).join('; ')}) decides; ${f.trigger.activation.find((a) => a.state === 'active') ? 'it holds now' : 'a different time, draw or file makes it hold'}.`);
  } else if (f.trigger.kind === 'input') {
    lines.push(`- An input that makes ${f.trigger.gates.map((g) => codeSpan(g.predicate.expression)).join(' and ')} select the branch above.`);
  } else {
    lines.push('- No special checkpoint or input: loading the model and running the entry point is enough.');
  }
  if (f.entryPoints.length > 0) lines.push(`- Entry point to run: ${f.entryPoints.map(codeSpan).join(', ')}`);
  return lines;
}

function reproduction(doc: AuditDocument, f: Finding): string[] {
  const model = doc.report.model.path;
  const active = triggeringActivation(f);
  const ckptArg = active && !modelOwnCheckpoint(doc, active.checkpoint) ? ` --checkpoint ${shellQuote(active.checkpoint)}` : '';
  const sig = signatureToRun(doc, f);
  const tags = doc.summary.metaGraphs[0]?.tags.join(',') || 'serve';
  const lines = [
    '1. Get the model files and check them against the SHA-256 values above.',
    `2. Confirm the finding statically (nothing from the model is executed):`,
    '',
    codeBlock([`tfaudit scan ${shellQuote(model)}${ckptArg}${f.capability === 'known-vulnerability' && doc.report.analysis.tensorflowRuntime ? ` --tf-runtime ${shellQuote(doc.report.analysis.tensorflowRuntime)}` : ''}`], 'sh'),
    '',
    `3. Run it in the sandbox (read-only model, network blocked, a scratch directory as the only writable place) and watch file, network and process activity:`,
    '',
    codeBlock([`tfaudit sandbox ${shellQuote(model)}${ckptArg}${ckptArg ? ` --compare ${shellQuote(`${model.replace(/\/+$/, '')}/variables/variables`)}` : ''}`], 'sh'),
    '',
    ckptArg
      ? '   It runs the same signature with the same inputs under the triggering checkpoint and under the model\'s own, and says for each finding whether the run confirmed it.'
      : '   It says for each finding whether the run confirmed it.',
  ];
  if (doc.report.model.format === 'saved-model' && (sig || f.reachability === 'load')) {
    const steps = [`cp -r ${shellQuote(model)} /tmp/poc_model`];
    if (active && !modelOwnCheckpoint(doc, active.checkpoint)) {
      steps.push(
        `for f in ${shellQuote(active.checkpoint)}.*; do cp "$f" /tmp/poc_model/variables/variables."\${f##*.}"; done`,
      );
    }
    steps.push(
      f.reachability === 'load' || !sig
        ? `python3 -c 'import tensorflow as tf; tf.saved_model.load("/tmp/poc_model")'`
        : `saved_model_cli run --dir /tmp/poc_model --tag_set ${shellQuote(tags)} --signature_def ${shellQuote(sig.key)} --input_exprs ${shellQuote(inputExpr(sig))}`,
    );
    lines.push(
      '',
      `4. Only in a disposable VM or container with TensorFlow ${codeSpan(doc.report.model.tensorflowVersion ?? 'of the recorded version')}: ${active && !modelOwnCheckpoint(doc, active.checkpoint) ? 'put the triggering checkpoint in place of the model\'s own variables and ' : ''}${f.reachability === 'load' || !sig ? 'load the model' : 'run the signature'}:`,
      '',
      codeBlock(steps, 'sh'),
    );
  }
  const runs = doc.sandboxRuns;
  if (runs.length > 0) {
    lines.push('', '### Recorded sandbox runs', '');
    for (const run of runs) {
      const outcome = run.timedOut ? 'timed out' : run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`;
      lines.push(
        `- Run ${codeSpan(run.runId)} at ${codeSpan(run.startedAt)} with checkpoint ${codeSpan(run.policy.checkpoint ?? "model's own")}, ${run.policy.backend}/${run.policy.runner}, network ${run.policy.allowNetwork ? 'allowed' : 'blocked'}: ${outcome}.`,
        '',
        codeBlock([run.command.map(shellQuote).join(' ')], 'sh'),
        '',
      );
      const verdict = runVerdict(f, run);
      lines.push(`  - this finding: **${verdict.observed}**${verdict.evidence[0] ? `: ${codeSpan(verdict.evidence[0])}` : ''}`);
      for (const w of run.filesWritten) lines.push(`  - file ${w.change}: ${codeSpan(w.path)} (${w.size} bytes)`);
      for (const s of run.syscalls) lines.push(`  - ${s.kind}: ${codeSpan(`${s.call}(${s.target}) = ${s.result}`)}`);
      if (run.filesWritten.length === 0 && run.syscalls.length === 0) lines.push('  - no file writes or notable system calls observed');
    }
  }
  return lines;
}

/** The run that proves the finding, told as the proof of concept, with runs that did not do it. */
function dynamicProof(doc: AuditDocument, f: Finding): string[] {
  const verdicts = doc.sandboxRuns.map((run) => ({ run, verdict: runVerdict(f, run) }));
  const proof = verdicts.find((v) => v.verdict.observed === 'confirmed');
  if (!proof) return [];
  const { run, verdict } = proof;
  const checkpoint = runCheckpointLabel(run);
  const lines = [
    `Confirmed in the sandbox: run ${codeSpan(run.runId)} (${run.policy.backend}, runner ${run.policy.runner}, network ${run.policy.allowNetwork ? 'allowed' : 'blocked'}) ` +
      `restored ${codeSpan(checkpoint)}${run.progress?.signature ? `, called signature ${codeSpan(run.progress.signature)}` : ''} and was observed doing it:`,
    '',
    codeBlock(verdict.evidence),
  ];
  if (run.inputs && Object.keys(run.inputs).length) {
    lines.push('', 'Inputs of the call:', '');
    for (const [name, input] of Object.entries(run.inputs)) {
      lines.push(`- ${codeSpan(name)}: ${codeSpan(`${input.dtype}[${input.shape.join(',')}]`)} ${input.source}, ${codeSpan(JSON.stringify(input.value).slice(0, 200))}`);
    }
  }
  const contrast = verdicts.filter((v) => v.run !== run && v.verdict.observed === 'not-observed');
  for (const { run: other, verdict: v } of contrast) {
    lines.push('', `Under ${codeSpan(runCheckpointLabel(other))} the same run did not do it: ${codeSpan(v.evidence[0] ?? 'not observed')}.`);
  }
  lines.push('');
  return lines;
}

function proofOfConcept(doc: AuditDocument, f: Finding): string[] {
  const lines = [...dynamicProof(doc, f), 'Evidence chain, from the trigger to the unsafe op:', '', codeBlock(f.evidence.map((e, i) => `${i === 0 ? '  ' : '→ '}${e}`))];
  if (f.trigger.gates.length > 0) {
    lines.push('', 'Control-flow gates and their predicates:', '');
    for (const g of f.trigger.gates) {
      lines.push(`- ${codeSpan(`${g.node} (${g.op})`)} → ${codeSpan(g.branch)}: ${codeSpan(g.predicate.expression)} (source: ${g.predicate.source})`);
      if (g.predicate.nodes.length > 0) lines.push(`  - predicate slice: ${g.predicate.nodes.map(codeSpan).join(' ← ')}`);
    }
  }
  if (f.arguments.length > 0) {
    lines.push('', 'Resolved arguments of the unsafe op:', '', '| Input | Value | Classification |', '| --- | --- | --- |');
    for (const a of f.arguments) {
      const value = a.value !== null ? codeSpan(JSON.stringify(a.value)) : `${codeSpan(a.expression)} (not constant)`;
      lines.push(`| ${codeSpan(a.input)} | ${value.replace(/\|/g, '\\|')} | ${mdText(a.classification)}${a.note ? `: ${mdText(a.note)}` : ''} |`);
    }
  }
  if (f.trigger.activation.length > 0) {
    lines.push('', 'Checkpoint verdicts (predicate evaluated with each checkpoint\'s values):', '');
    for (const a of f.trigger.activation) {
      const values = Object.entries(a.values).map(([k, v]) => `${codeSpan(k)} = ${codeSpan(v)}`).join(', ');
      lines.push(`- ${codeSpan(a.checkpoint)}: **${a.state}**${values ? `; ${values}` : ''}${a.reason ? `. ${mdText(a.reason)}` : ''}`);
    }
  }
  if (f.details) for (const [k, v] of Object.entries(f.details)) lines.push(`- ${mdText(k)}: ${codeSpan(v)}`);
  return lines;
}

function impact(f: Finding): string[] {
  const who =
    f.trigger.kind === 'variable'
      ? 'Whoever can supply or replace the checkpoint (a weights update, a fine-tuned release, a model hub upload) controls whether this runs; the graph itself looks unchanged and the branch stays dormant under the original weights, which defeats review of the published model.'
      : f.trigger.kind === 'environment'
        ? 'Anyone who runs the model is exposed once the clock, the random draw or the data read at run time takes the gate: a time bomb or a lottery that no review of the weights can rule out.'
        : f.trigger.kind === 'input'
        ? 'Whoever can send requests to a server that loads the model can trigger it.'
        : 'Anyone who loads and runs the model triggers it.';
  const target = f.arguments.find((a) => a.value !== null);
  return [
    CAPABILITY_IMPACT[f.capability] ?? `The model has the ${mdText(f.capability)} capability.`,
    '',
    who,
    ...(target ? ['', `Concretely, the op uses ${codeSpan(target.value!)} (${mdText(target.classification)}${target.note ? `: ${mdText(target.note)}` : ''}).`] : []),
    '',
    f.capability === 'known-vulnerability'
      ? 'Note: these advisories are public and fixed in later TensorFlow releases: the remedy is upgrading the TensorFlow that serves the model (see the recommendation), so this draft is for the team operating the server, not for TensorFlow.'
      : "Note: TensorFlow's security model treats models as programs, so a model doing this is usually reported to the model's publisher or the hosting hub; report to TensorFlow when the behaviour goes beyond what the op is documented to do.",
  ];
}

/** The Markdown draft for one finding of the audit. */
export function renderVulnReport(doc: AuditDocument, findingId: string): string {
  const f = doc.report.findings.find((x) => x.id === findingId);
  if (!f) {
    const known = doc.report.findings.map((x) => x.id).join(', ') || 'none';
    throw new Error(`No finding ${JSON.stringify(findingId)} in the report (findings: ${known})`);
  }
  const name = doc.report.model.path.replace(/\/+$/, '').split('/').pop() || doc.report.model.path;
  const header = [
    `# Draft vulnerability report: ${capabilityPhrase(f.capability)} in model ${codeSpan(name)}`,
    '',
    `> Drafted by ${mdText(`${doc.report.tool.name} ${doc.report.tool.version}`)} on ${mdText(doc.generatedAt)} from finding ${codeSpan(f.id)}${doc.auditor ? `, audited by ${mdText(doc.auditor)}` : ''}. Review every section before sending.`,
  ].join('\n');
  return [
    header,
    section('Type of issue', typeOfIssue(f)),
    section('Affected source and locations', affected(doc, f)),
    section('Configuration needed to reproduce', configuration(doc, f)),
    section('Step-by-step reproduction', reproduction(doc, f)),
    section('Proof of concept', proofOfConcept(doc, f)),
    section('Impact', impact(f)),
  ].join('\n\n') + '\n';
}

/** The finding a draft is written for by default: the most severe, first in report order. */
export function defaultFindingId(doc: AuditDocument): string | null {
  return bySeverity(doc.report.findings)[0]?.id ?? null;
}
