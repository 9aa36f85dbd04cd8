/**
 * `npm run build`: bundles every Lambda handler in functions/ the way the deployment does
 * (serverless-esbuild with the settings in serverless.yml: ESM, minified, tree-shaken, source
 * maps, Node 22 target) into dist/<name>.mjs, and prints each bundle's size. The benchmarks use
 * these bundles to measure cold start.
 */
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const OUT_DIR = 'dist';

export const handlerEntries = (): string[] =>
  readdirSync('functions')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join('functions', file));

export async function buildHandlers(outDir = OUT_DIR): Promise<Array<{ name: string; file: string; bytes: number }>> {
  const entries = handlerEntries();
  await build({
    entryPoints: entries,
    outdir: outDir,
    bundle: true,
    minify: true,
    treeShaking: true,
    sourcemap: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // Code split: what only some requests need (the SQS and SSM clients, imported dynamically)
    // lands in separate chunks that are loaded on first use, off the cold-start path.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // ESM bundles that contain CommonJS dependencies need a real `require`.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return entries.map((entry) => {
    const name = basename(entry, '.ts');
    const file = join(outDir, `${name}.mjs`);
    return { name, file, bytes: statSync(file).size };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bundles = await buildHandlers();
  for (const b of bundles) console.log(`${b.file.padEnd(32)} ${(b.bytes / 1024).toFixed(1).padStart(8)} KB`);
}
