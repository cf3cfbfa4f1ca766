// npm run bench: the benchmark table for the standard cohorts, plus a JSON file under bench-results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchTable } from '../src-main/cli/bench-table.ts';
import { runBench, type BenchFigures } from '../src-main/services/bench.ts';

const sizes = (process.argv[2] ?? '19,4096,100000,1000000').split(',').map(Number);
const rows: BenchFigures[] = [];
for (const patients of sizes) {
  process.stderr.write(`benchmarking ${patients.toLocaleString('en')} patients…\n`);
  rows.push(await runBench({ patients }));
}
process.stdout.write(`${benchTable(rows)}\n`);
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ machine, results: rows }, null, 2));
process.stderr.write(`written ${file}\n`);
