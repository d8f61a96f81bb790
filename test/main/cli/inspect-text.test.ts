// `tfaudit inspect` on a checkpoint: _CHECKPOINTABLE_OBJECT_GRAPH decoded as a tree (object
// path → checkpoint key) instead of escaped bytes, on a bundle written by our writer with a
// TrackableObjectGraph encoded from TensorFlow's own .proto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCheckpoint } from '../../../main/formats/tensorbundle.ts';
import { summarizeCheckpoint } from '../../../main/formats/summary.ts';
import { renderInspectText } from '../../../main/cli/inspect-text.ts';
import { protoTypes } from '../../../main/formats/protobuf.ts';
import { writeTensorBundle } from '../../../main/writer/tensorbundle.ts';
import { tempDir } from '../../helpers/corpus.ts';
import type { ModelSummary } from '../../../shared/summary.ts';

test('inspect shows the object graph as object path → checkpoint key', async () => {
  const graph = protoTypes.TrackableObjectGraph.encode(
    protoTypes.TrackableObjectGraph.fromObject({
      nodes: [
        { children: [{ node_id: 1, local_name: 'model' }, { node_id: 3, local_name: 'save_counter' }] },
        { children: [{ node_id: 2, local_name: 'flag' }, { node_id: 1, local_name: 'self' }] },
        { attributes: [{ name: 'VARIABLE_VALUE', full_name: 'flag', checkpoint_key: 'model/flag/.ATTRIBUTES/VARIABLE_VALUE' }] },
        { attributes: [{ name: 'VARIABLE_VALUE', full_name: 'save_counter', checkpoint_key: 'save_counter/.ATTRIBUTES/VARIABLE_VALUE' }] },
      ],
    }),
  ).finish();
  const prefix = join(tempDir(), 'ckpt');
  await writeTensorBundle(prefix, [
    { key: '_CHECKPOINTABLE_OBJECT_GRAPH', dtype: 'DT_STRING', shape: [], values: [graph] },
    { key: 'model/flag/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_INT32', shape: [], values: [1] },
    { key: 'save_counter/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_INT64', shape: [], values: [1] },
  ]);
  const checkpoint = summarizeCheckpoint(await openCheckpoint(prefix));
  assert.deepEqual(checkpoint.entries.find((e) => e.key === '_CHECKPOINTABLE_OBJECT_GRAPH')?.values, [], 'no escaped bytes');
  const summary: ModelSummary = { path: prefix, format: 'checkpoint', files: [], tensorflowVersion: null, metaGraphs: [], checkpoint, warnings: [] };
  const text = renderInspectText(summary);
  assert.match(text, /_CHECKPOINTABLE_OBJECT_GRAPH: string \[\]  \(object graph, decoded below\)/);
  assert.match(text, /object graph \(5 objects; object path → checkpoint key\):\n {4}\(root\)\n {6}model\n {8}flag {2}→ model\/flag\/\.ATTRIBUTES\/VARIABLE_VALUE\n {8}self {2}= model\n {6}save_counter {2}→ save_counter\/\.ATTRIBUTES\/VARIABLE_VALUE/);
});
