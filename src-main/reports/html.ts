import { type Block, type Chart, type Column, PALETTE, type ReportDocument } from './document.ts';

/** Everything in a report that came from a workspace (hospital names, file names, log detail) is untrusted. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Inline, light only and print-ready: the file is opened years later, offline, on any machine.
const CSS = `
:root { color-scheme: light; --ink: ${PALETTE.ink}; --muted: ${PALETTE.muted}; --line: ${PALETTE.line}; --accent: ${PALETTE.accent}; --head: ${PALETTE.head}; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 820px; padding: 32px 28px; font: 14px/1.45 Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
.subtitle { color: var(--muted); margin: 0 0 24px; }
h2 { font-size: 17px; color: var(--accent); border-bottom: 1px solid var(--line); padding-bottom: 4px; margin: 28px 0 10px; }
p { margin: 8px 0; }
.muted { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: var(--head); }
table.fields th { width: 34%; font-weight: normal; color: var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: "Courier New", Courier, monospace; word-break: break-all; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; margin: 8px 0 12px; }
figure { margin: 0; flex: 1 1 0; min-width: 280px; }
figcaption { font-weight: bold; margin-bottom: 4px; }
figure svg { width: 100%; height: auto; display: block; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } figure, tr { break-inside: avoid; } }
`;

function cell(tag: 'th' | 'td', text: string, c: Pick<Column, 'numeric' | 'mono'>): string {
  const cls = [c.numeric ? 'num' : '', c.mono ? 'mono' : ''].filter(Boolean).join(' ');
  return `<${tag}${cls ? ` class="${cls}"` : ''}>${esc(text)}</${tag}>`;
}

function figure(c: Chart): string {
  // The SVG comes from ECharts, which escapes the text it draws; role and label make it readable by ear.
  return `<figure><figcaption>${esc(c.title)}</figcaption><div role="img" aria-label="${esc(c.description)}">${c.svg}</div></figure>`;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'text':
      return `<p${b.muted ? ' class="muted"' : ''}>${esc(b.text)}</p>`;
    case 'fields':
      return `<table class="fields"><tbody>${b.fields.map((f) => `<tr><th scope="row">${esc(f.label)}</th>${cell('td', f.value, f)}</tr>`).join('')}</tbody></table>`;
    case 'table': {
      const total = b.columns.reduce((s, c) => s + c.weight, 0);
      const cols = b.columns.map((c) => `<col style="width: ${((100 * c.weight) / total).toFixed(1)}%">`).join('');
      return (
        `<table><colgroup>${cols}</colgroup><thead><tr>${b.columns.map((c) => cell('th', c.title, c)).join('')}</tr></thead>` +
        `<tbody>${b.rows.map((r) => `<tr>${r.map((v, i) => cell('td', v, b.columns[i]!)).join('')}</tr>`).join('')}</tbody></table>`
      );
    }
    case 'charts':
      return `<div class="charts">${b.charts.map(figure).join('')}</div>`;
  }
}

/** A self-contained page: inline CSS and SVG, no script, and a CSP that lets nothing else in. */
export function renderHtml(doc: ReportDocument): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(doc.title)}</h1>
<p class="subtitle">${esc(doc.subtitle)}</p>
${doc.sections.map((s) => `<section>\n<h2>${esc(s.title)}</h2>\n${s.blocks.map(block).join('\n')}\n</section>`).join('\n')}
<footer>${esc(doc.footer)}</footer>
</body>
</html>
`;
}
