// Layout and SVG of the evidence figure, on the P1-shaped figure (variable → Greater → If →
// then_branch → call → WriteFile) from the synthetic report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutFigure, wrapLabel, estimateTextWidth, branchesToUnsafe, FIGURE_STYLE, MAX_FIGURE_NODES } from '../../shared/figure-layout.ts';
import { figureToSvg, escapeXml } from '../../shared/figure-svg.ts';
import { writeFileFinding } from '../main/report/synthetic-report.ts';
import type { Figure } from '../../shared/findings.ts';

const figure = writeFileFinding().figure;

function overlaps(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test('layout flows left to right along the evidence chain', () => {
  const laid = layoutFigure(figure);
  const x = (id: string) => laid.nodes.find((n) => n.id === id)!.x;
  assert.equal(laid.nodes.length, figure.nodes.length);
  assert.ok(x('v') < x('p') && x('p') < x('c') && x('c') < x('b') && x('b') < x('k') && x('k') < x('u'));
  for (const n of laid.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0, `${n.id} inside`);
    assert.ok(n.x + n.width <= laid.width + 0.01 && n.y + n.height <= laid.height + 0.01, `${n.id} inside`);
  }
});

test('nodes do not overlap and boxes fit their estimated label width', () => {
  const laid = layoutFigure(figure);
  for (const n of laid.nodes) {
    for (const line of n.lines) assert.ok(estimateTextWidth(line) <= n.width, `${n.id} fits ${line}`);
  }
  for (let i = 0; i < laid.nodes.length; i++)
    for (let j = i + 1; j < laid.nodes.length; j++)
      assert.ok(!overlaps(laid.nodes[i], laid.nodes[j]), `${laid.nodes[i].id} vs ${laid.nodes[j].id}`);
});

test('edges are polylines from source box to target box', () => {
  const laid = layoutFigure(figure);
  assert.equal(laid.edges.length, figure.edges.length);
  for (const e of laid.edges) {
    assert.ok(e.points.length >= 2);
    const from = laid.nodes.find((n) => n.id === e.from)!;
    const to = laid.nodes.find((n) => n.id === e.to)!;
    assert.ok(e.points[0].x >= from.x + from.width / 2 - 0.5, 'starts at the source');
    assert.ok(e.points[e.points.length - 1].x <= to.x + to.width / 2 + 0.5, 'ends at the target');
  }
  const labelled = laid.edges.find((e) => e.label === 'true')!;
  assert.ok(labelled.labelPosition);
});

test('active branch is marked and propagates downstream only', () => {
  const laid = layoutFigure(figure, { activeNodeIds: ['b'] });
  const active = laid.nodes.filter((n) => n.active).map((n) => n.id).sort();
  assert.deepEqual(active, ['b', 'k', 'u']);
  assert.ok(laid.edges.find((e) => e.from === 'b' && e.to === 'k')!.active);
  assert.ok(!laid.edges.find((e) => e.from === 'c' && e.to === 'e')!.active);
});

test('same figure, same coordinates (deterministic)', () => {
  assert.deepEqual(layoutFigure(figure), layoutFigure(structuredClone(figure)));
});

test('long labels wrap, at separators, and are capped', () => {
  const lines = wrapLabel('model/block_1/very_long_scope_name_very_long_scope_name_WriteFile', 20, 3);
  assert.ok(lines.length <= 3);
  assert.ok(lines.every((l) => Array.from(l).length <= 20));
  assert.ok(lines[0].endsWith('/') || lines[0].endsWith('_'));
  const capped = wrapLabel('x'.repeat(500), 20, 3);
  assert.equal(capped.length, 3);
  assert.ok(capped[2].endsWith('…'));
});

test('hostile figure input: duplicates, dangling edges, empty figure', () => {
  const hostile: Figure = {
    nodes: [
      { id: 'a', label: '<script>&"', kind: 'unsafe' },
      { id: 'a', label: 'dup', kind: 'variable' },
      { id: 'b', label: '', kind: 'constant' },
    ],
    edges: [
      { from: 'a', to: 'b' },
      { from: 'a', to: 'missing' },
      { from: 'a', to: 'b', label: 'again' },
    ],
  };
  const laid = layoutFigure(hostile);
  assert.equal(laid.nodes.length, 2);
  assert.equal(laid.edges.length, 2);
  const svg = figureToSvg(laid);
  assert.ok(!svg.includes('<script>'));
  assert.ok(svg.includes('&lt;script&gt;&amp;&quot;'));
  const empty = layoutFigure({ nodes: [], edges: [] });
  assert.match(figureToSvg(empty), /^<svg /);
});

test('SVG carries every label, kind colours and active marking', () => {
  const laid = layoutFigure(figure);
  const svg = figureToSvg(laid, { activeNodeIds: ['b', 'k', 'u'] });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
  for (const n of laid.nodes) for (const line of n.lines) assert.ok(svg.includes(`>${escapeXml(line)}</text>`), line);
  assert.equal(laid.nodes.find((n) => n.id === 'u')!.lines.join(''), "WriteFile('/tmp/tfaudit_canary')");
  assert.ok(svg.includes(FIGURE_STYLE.kinds.unsafe.fill));
  assert.ok(svg.includes(FIGURE_STYLE.kinds.variable.fill));
  assert.equal((svg.match(/class="node [a-z]+ active"/g) ?? []).length, 3);
  assert.equal((svg.match(/<polyline /g) ?? []).length, figure.edges.length);
});

test('escapeXml strips characters XML cannot carry', () => {
  assert.equal(escapeXml('a\u0000b\u001fc'), 'a\ufffdb\ufffdc');
  assert.equal(escapeXml('\ud800x'), '\ufffdx');
  assert.equal(escapeXml('😀'), '😀');
});

test('branchesToUnsafe picks the branch that leads to the unsafe op', () => {
  assert.deepEqual(branchesToUnsafe(figure), ['b']);
  assert.deepEqual(branchesToUnsafe({ nodes: [], edges: [] }), []);
});

test('runaway figures are cut at MAX_FIGURE_NODES and say how much was left out', () => {
  const n = MAX_FIGURE_NODES + 50;
  const big: Figure = {
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, label: `node_${i}`, kind: 'call' as const })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  };
  const laid = layoutFigure(big);
  assert.equal(laid.nodes.length, MAX_FIGURE_NODES);
  assert.equal(laid.omittedNodes, 50);
  assert.equal(laid.edges.length, MAX_FIGURE_NODES - 1);
  assert.equal(layoutFigure(figure).omittedNodes, 0);
});
