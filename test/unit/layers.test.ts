import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The layering, enforced from the code's own imports (ARCHITECTURE.md, README's Design section). Each folder of
 * src-main sits on a layer and imports only from its own layer or below; folders never import each other in a
 * circle; a few rules say who may hold what (the evaluator never reaches the vault; only front doors wire the
 * app; the renderer sees the contract and nothing of Node).
 */

const ROOT = resolve(import.meta.dirname, '../..');

export const LAYERS: Record<string, number> = {
  contract: 0,
  common: 0,
  ckks: 1,
  store: 1,
  vault: 1,
  ingest: 2,
  ml: 2,
  audit: 2,
  circuits: 2,
  federation: 2,
  reports: 2,
  workers: 3,
  services: 4,
  app: 5,
  ipc: 5,
  cli: 5,
  'main-entry': 6,
  preload: 6,
  renderer: 6,
};

/** The layer-1 foundations know only layer 0: SEAL, SQLite and key custody are independent of each other. */
const FOUNDATIONS = new Set(['ckks', 'store', 'vault']);
const FRONT_DOORS = new Set(['app', 'ipc', 'cli', 'main-entry']);
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export interface Edge {
  from: string;
  to: string;
  fromFile: string;
  toFile: string;
}

/** The folder a source file belongs to, as the layering names it. */
export function folderOf(file: string): string | null {
  const rel = relative(ROOT, file).split('\\').join('/');
  if (rel.startsWith('src-renderer/')) return 'renderer';
  if (rel === 'src-preload/index.ts') return 'preload';
  if (rel.startsWith('src-preload/')) return 'contract';
  if (!rel.startsWith('src-main/')) return null;
  const parts = rel.slice('src-main/'.length).split('/');
  return parts.length === 1 ? 'main-entry' : parts[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return /\.(ts|vue)$/.test(d.name) && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;

export function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => m[2]!);
}

function graph(): { edges: Edge[]; packages: { file: string; spec: string }[] } {
  const edges: Edge[] = [];
  const packages: { file: string; spec: string }[] = [];
  for (const top of ['src-main', 'src-preload', 'src-renderer']) {
    for (const file of sourceFiles(join(ROOT, top))) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) {
          packages.push({ file, spec });
          continue;
        }
        const target = resolve(dirname(file), spec);
        const from = folderOf(file)!;
        const to = folderOf(target);
        if (to === null) continue; // package.json, resources
        edges.push({ from, to, fromFile: relative(ROOT, file), toFile: relative(ROOT, target) });
      }
    }
  }
  return { edges, packages };
}

const { edges, packages } = graph();
const crossing = edges.filter((e) => e.from !== e.to);
const show = (list: Edge[]) => list.map((e) => `${e.fromFile} -> ${e.toFile}`);

/** Folder-level cycles, each as the list of folders around it (Tarjan's strongly connected components). */
export function folderCycles(list: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of list) {
    if (e.from === e.to) continue;
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)!.add(e.to);
  }
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('layering', () => {
  it('every folder is placed on a layer', () => {
    const unknown = [...new Set(edges.flatMap((e) => [e.from, e.to]))].filter((f) => !(f in LAYERS));
    expect(unknown).toEqual([]);
  });

  it('no import points up a layer', () => {
    expect(show(crossing.filter((e) => LAYERS[e.to]! > LAYERS[e.from]!))).toEqual([]);
  });

  it('no two folders import each other, directly or around a circle', () => {
    expect(folderCycles(edges)).toEqual([]);
  });

  it('no two files import each other, directly or around a circle', () => {
    expect(folderCycles(edges.map((e) => ({ ...e, from: e.fromFile, to: e.toFile })))).toEqual([]);
  });

  it('ckks/, store/ and vault/ import nothing above the shared base, nor each other', () => {
    expect(show(crossing.filter((e) => FOUNDATIONS.has(e.from) && LAYERS[e.to]! !== 0))).toEqual([]);
  });

  it('the evaluator threads never reach key custody', () => {
    expect(show(crossing.filter((e) => e.from === 'workers' && e.to === 'vault'))).toEqual([]);
  });

  it('only the front doors wire the app', () => {
    expect(show(crossing.filter((e) => e.to === 'app' && !['ipc', 'main-entry'].includes(e.from)))).toEqual([]);
    expect(show(crossing.filter((e) => e.from === 'cli' && (e.to === 'app' || e.to === 'ipc')))).toEqual([]);
    expect(show(crossing.filter((e) => FRONT_DOORS.has(e.to) && !FRONT_DOORS.has(e.from)))).toEqual([]);
  });

  it('the renderer and the contract import no Node code and nothing of the main process', () => {
    const bad = packages.filter((p) => ['renderer', 'contract'].includes(folderOf(p.file)!) && NODE_BUILTINS.has(p.spec));
    expect(bad.map((p) => `${relative(ROOT, p.file)}: ${p.spec}`)).toEqual([]);
    expect(show(crossing.filter((e) => (e.from === 'renderer' || e.from === 'contract') && !['contract', 'renderer'].includes(e.to)))).toEqual([]);
  });

  it('the checks see a cycle and an upward import when there is one', () => {
    const planted: Edge[] = [
      { from: 'store', to: 'services', fromFile: 'a', toFile: 'b' },
      { from: 'services', to: 'store', fromFile: 'b', toFile: 'a' },
    ];
    expect(folderCycles(planted)).toEqual([['services', 'store']]);
    expect(planted.filter((e) => LAYERS[e.to]! > LAYERS[e.from]!)).toHaveLength(1);
  });
});
