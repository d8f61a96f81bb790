// A laid-out evidence figure as a standalone SVG document: vector graphics for the PDF and for
// exports. Every piece of text comes from the model, so it is escaped and stripped of
// characters XML cannot carry.
import { FIGURE_STYLE, estimateTextWidth, type LaidOutFigure, type LaidOutNode } from './figure-layout.ts';

export interface FigureSvgOptions {
  /** Nodes to mark as on the active path, besides those the layout already marked. */
  activeNodeIds?: string[];
  /** Font family written into the SVG (must be a font the consumer knows). */
  fontFamily?: string;
}

export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function nodeSvg(node: LaidOutNode, active: boolean, font: string): string {
  const style = FIGURE_STYLE.kinds[node.kind];
  const stroke = active ? FIGURE_STYLE.active.stroke : style.stroke;
  const strokeWidth = active ? FIGURE_STYLE.active.strokeWidth : 1;
  const cx = node.x + node.width / 2;
  const parts = [
    `<g class="node ${node.kind}${active ? ' active' : ''}">`,
    node.detail ? `<title>${escapeXml(node.detail)}</title>` : '',
    `<rect x="${num(node.x)}" y="${num(node.y)}" width="${num(node.width)}" height="${num(node.height)}" rx="4" ry="4" fill="${style.fill}" stroke="${stroke}" stroke-width="${strokeWidth}"/>`,
  ];
  let y = node.y + 6 + FIGURE_STYLE.captionSize;
  parts.push(
    `<text x="${num(cx)}" y="${num(y)}" text-anchor="middle" font-family="${font}" font-size="${FIGURE_STYLE.captionSize}" font-weight="bold" fill="${style.stroke}">${escapeXml(style.caption)}</text>`,
  );
  y += FIGURE_STYLE.captionSize * 0.25 + FIGURE_STYLE.fontSize * 1.05;
  for (const line of node.lines) {
    parts.push(
      `<text x="${num(cx)}" y="${num(y)}" text-anchor="middle" font-family="${font}" font-size="${FIGURE_STYLE.fontSize}" fill="${style.text}">${escapeXml(line)}</text>`,
    );
    y += FIGURE_STYLE.fontSize * 1.25;
  }
  parts.push('</g>');
  return parts.join('');
}

function arrowHead(points: { x: number; y: number }[], color: string): string {
  if (points.length < 2) return '';
  const tip = points[points.length - 1];
  const prev = points[points.length - 2];
  const angle = Math.atan2(tip.y - prev.y, tip.x - prev.x);
  const size = 6;
  const left = { x: tip.x - size * Math.cos(angle - 0.4), y: tip.y - size * Math.sin(angle - 0.4) };
  const right = { x: tip.x - size * Math.cos(angle + 0.4), y: tip.y - size * Math.sin(angle + 0.4) };
  return `<polygon points="${num(tip.x)},${num(tip.y)} ${num(left.x)},${num(left.y)} ${num(right.x)},${num(right.y)}" fill="${color}"/>`;
}

export function figureToSvg(laid: LaidOutFigure, options: FigureSvgOptions = {}): string {
  const font = escapeXml(options.fontFamily ?? FIGURE_STYLE.fontFamily);
  const extra = new Set(options.activeNodeIds ?? []);
  const isActive = (id: string) => extra.has(id) || laid.nodes.some((n) => n.id === id && n.active);
  const width = Math.max(1, Math.ceil(laid.width));
  const height = Math.max(1, Math.ceil(laid.height));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  for (const edge of laid.edges) {
    if (edge.points.length < 2) continue;
    const active = edge.active || (isActive(edge.from) && isActive(edge.to));
    const color = active ? FIGURE_STYLE.active.stroke : FIGURE_STYLE.edge;
    const points = edge.points.map((p) => `${num(p.x)},${num(p.y)}`).join(' ');
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="${active ? 2 : 1.2}"/>`,
      arrowHead(edge.points, color),
    );
    if (edge.label && edge.labelPosition) {
      const w = estimateTextWidth(edge.label, FIGURE_STYLE.captionSize) + 4;
      const h = FIGURE_STYLE.captionSize + 3;
      parts.push(
        `<rect x="${num(edge.labelPosition.x - w / 2)}" y="${num(edge.labelPosition.y - h / 2)}" width="${num(w)}" height="${num(h)}" fill="#ffffff"/>`,
      );
      parts.push(
        `<text x="${num(edge.labelPosition.x)}" y="${num(edge.labelPosition.y + FIGURE_STYLE.captionSize / 3)}" text-anchor="middle" font-family="${font}" font-size="${FIGURE_STYLE.captionSize}" fill="${FIGURE_STYLE.edgeLabel}">${escapeXml(edge.label)}</text>`,
      );
    }
  }
  for (const node of laid.nodes) parts.push(nodeSvg(node, isActive(node.id), font));
  parts.push('</svg>');
  return parts.join('\n');
}
