// Terminal rendering of `tfaudit inspect`.
import type { TensorInfoIR } from '../../shared/ir.ts';
import type { ModelSummary } from '../../shared/summary.ts';

function shapeText(info: TensorInfoIR): string {
  if (!info.shape) return 'no shape';
  if (info.shape.unknownRank) return 'unknown rank';
  return `[${info.shape.dims.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}

function dtypeText(dtype: string): string {
  return dtype.replace(/^DT_/, '').toLowerCase();
}

function valuesText(values: (number | boolean | string)[], total: number): string {
  if (values.length === 0) return '';
  const shown = values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ');
  return ` = [${shown}${total > values.length ? ', …' : ''}]`;
}

export function renderInspectText(summary: ModelSummary): string {
  const lines: string[] = [];
  lines.push(`${summary.path}`);
  lines.push(`  format: ${summary.format}${summary.tensorflowVersion ? `   TensorFlow ${summary.tensorflowVersion}` : ''}`);
  lines.push(`  files: ${summary.files.length}`);
  for (const file of summary.files) lines.push(`    ${file.path}  ${file.size} B  sha256 ${file.sha256}`);
  summary.metaGraphs.forEach((meta, index) => {
    lines.push('');
    lines.push(`meta graph ${index} [${meta.tags.join(', ') || 'no tags'}]  producer ${meta.producer ?? '?'}  ${meta.nodeCount} nodes, ${meta.functions.length} functions`);
    if (meta.signatures.length === 0) lines.push('  signatures: none');
    for (const sig of meta.signatures) {
      lines.push(`  signature ${sig.key} (${sig.methodName || 'no method'})`);
      for (const [name, info] of Object.entries(sig.inputs)) lines.push(`    in  ${name}: ${dtypeText(info.dtype)} ${shapeText(info)}  ← ${info.name}`);
      for (const [name, info] of Object.entries(sig.outputs)) lines.push(`    out ${name}: ${dtypeText(info.dtype)} ${shapeText(info)}  → ${info.name}`);
    }
    const ops = Object.entries(meta.opCounts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    lines.push(`  ops (${ops.length} types): ${ops.map(([op, n]) => `${op}×${n}`).join('  ')}`);
    if (meta.functions.length > 0) {
      lines.push('  functions:');
      for (const fn of meta.functions) lines.push(`    ${fn.name} (${fn.nodeCount} nodes)`);
    }
    if (meta.variables.length > 0) {
      lines.push('  variables:');
      for (const v of meta.variables) {
        const shape = v.shape ? `[${v.shape.join(',')}]` : '?';
        lines.push(`    ${v.name}: ${dtypeText(v.dtype)} ${shape}${v.checkpointKey ? `  key ${v.checkpointKey}` : '  (not in checkpoint)'}`);
      }
    }
  });
  if (summary.keras) {
    lines.push('');
    lines.push(`keras ${summary.keras.kerasVersion ?? '?'} (backend ${summary.keras.backend ?? '?'}), ${summary.keras.layerCount} layers`);
  }
  if (summary.tflite) {
    lines.push('');
    lines.push(`tflite schema v${summary.tflite.version} "${summary.tflite.description}": operators ${summary.tflite.operatorCodes.join(', ')}`);
  }
  if (summary.checkpoint) {
    lines.push('');
    lines.push(`checkpoint ${summary.checkpoint.prefix} (${summary.checkpoint.version}), ${summary.checkpoint.entries.length} entries`);
    for (const entry of summary.checkpoint.entries) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const decoded = entry.key === '_CHECKPOINTABLE_OBJECT_GRAPH' && summary.checkpoint.objects ? '  (object graph, decoded below)' : '';
      lines.push(`  ${entry.key}: ${dtypeText(entry.dtype)} [${entry.shape.join(',')}]${valuesText(entry.values, count)}${decoded}${entry.error ? `  (${entry.error})` : ''}`);
    }
    if (summary.checkpoint.objects) {
      lines.push(`  object graph (${summary.checkpoint.objects.length} objects; object path → checkpoint key):`);
      for (const o of summary.checkpoint.objects) {
        const indent = '    ' + '  '.repeat(o.path.length);
        const name = o.path.length ? o.path[o.path.length - 1]! : '(root)';
        if (o.sameAs) {
          lines.push(`${indent}${name}  = ${o.sameAs.join('/') || '(root)'}`);
          continue;
        }
        const keys = o.attributes.map((a) => (a.name === 'VARIABLE_VALUE' ? a.checkpointKey : `${a.name}: ${a.checkpointKey}`));
        lines.push(`${indent}${name}${keys.length ? `  → ${keys.join(', ')}` : ''}`);
      }
      if (summary.checkpoint.objectsTruncated) lines.push('    … (more objects not listed)');
    }
  }
  if (summary.warnings.length > 0) {
    lines.push('');
    lines.push('warnings:');
    for (const w of summary.warnings) lines.push(`  ${w}`);
  }
  return lines.join('\n');
}
