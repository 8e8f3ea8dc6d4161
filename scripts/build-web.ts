/**
 * Bundles the dashboard (src/web/client: Preact and uPlot) into dist/web-ui/, which the
 * controller serves on `cutover up --ui`. Run by `npm run build` and by `npm ci` (prepare), so
 * an install needs no extra step. No inline script or style comes out: the CSP forbids them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const source = path.join(root, 'src', 'web', 'client');
const out = path.join(root, 'dist', 'web-ui');

fs.rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: path.join(source, 'app.tsx') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  metafile: true,
  logLevel: 'warning',
});
fs.copyFileSync(path.join(source, 'index.html'), path.join(out, 'index.html'));
const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, info]) => `${path.basename(file)} ${(info.bytes / 1024).toFixed(1)} KiB`);
console.log(`dashboard bundled into ${path.relative(root, out)}/: ${sizes.join(', ')}`);
