// The coverage list of the checkpoint panel: a Keras weights checkpoint shows which weights it
// changes (with their difference) and which were not compared, and a not-compared weight raises the alarm style.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderToStaticMarkup } from 'react-dom/server';
import { CheckpointCoverageList } from '../../renderer/components/CheckpointPanel.tsx';
import type { CheckpointReport } from '../../shared/findings.ts';

const entry = (notCompared: number): CheckpointReport => ({
  path: '/w/changed.weights.h5',
  coverage: {
    method: 'keras-weights', root: null, rootPath: null, restoreCall: 'model.load_weights(path)', matched: 3, total: 3, missing: [], extra: [], extraCount: 0, mismatches: [], refused: null, differentModel: false, candidates: 1, alternatives: [], notes: [],
    values: {
      changed: 1, unchanged: 2 - notCompared, notCompared,
      changedWeights: [{ variable: 'layers/dense/vars/0', checkpointKey: 'layers/dense/vars/0', elementsChanged: 1, elements: 12, maxAbsDiff: 0.5 }],
      notComparedWeights: notCompared ? [{ variable: 'layers/big/vars/0', reason: '5000000 elements, above the per-weight comparison limit of 4000000' }] : [],
      limits: { maxElementsPerWeight: 4_000_000, maxTotalElements: 32_000_000 },
    },
  },
});

test('a Keras weights checkpoint lists its changed weights, and a not-compared one raises the alarm', () => {
  const quiet = renderToStaticMarkup(<CheckpointCoverageList entries={[entry(0)]} />);
  assert.match(quiet, /1 changed, 2 unchanged, 0 not compared/);
  assert.match(quiet, /changed layers\/dense\/vars\/0: 1 of 12 values, max \|Δ\| 0\.5/);
  assert.doesNotMatch(quiet, /class="alarm"/);
  const loud = renderToStaticMarkup(<CheckpointCoverageList entries={[entry(1)]} />);
  assert.match(loud, /not compared layers\/big\/vars\/0: 5000000 elements, above the per-weight comparison limit/);
  assert.match(loud, /class="alarm"/);
});
