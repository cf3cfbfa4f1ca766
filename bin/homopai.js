#!/usr/bin/env node
// The `homopai` command: the CLI as built by `npm run build` (electron-vite bundles src-main/cli/main.ts).
import { existsSync } from 'node:fs';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('homopai: the CLI is not built yet; run `npm run build` first\n');
  process.exit(1);
}
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`homopai: Node >= 22.19 is required (node-seal 7's WebAssembly); this is ${process.version}. Run: source scripts/dev-env.sh\n`);
  process.exit(1);
}
await import(cli.href);
