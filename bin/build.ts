/**
 * `npm run build`: bundles every Lambda handler in functions/ the way the deployment does
 * (serverless-esbuild with the settings in serverless.yml: ESM, minified, tree-shaken, source
 * maps, Node 22 target) into dist/<name>.mjs, and prints what each function loads eagerly at
 * cold start (its entry plus the chunks it imports statically) and what it leaves to lazy chunks.
 * The benchmarks (bench/world.ts) build the same way, with the bare equivalent beside them.
 */
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { readdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';

const OUT_DIR = 'dist';

/** Resolved from the working directory, as esbuild does for aliases (run from the repository root). */
export const NODE_HTTP_ALIAS = { 'node:http': './bin/node-http.ts', http: './bin/node-http.ts' };

export interface HandlerBundle {
  name: string;
  /** The entry file, e.g. dist/login.mjs. */
  file: string;
  /** Entry + every chunk it imports statically (transitively): what a cold start loads. */
  eagerBytes: number;
  eagerFiles: string[];
  /** Chunks reachable only through `import()`: loaded on first use, if ever. */
  lazyBytes: number;
}

export interface BuildResult {
  bundles: HandlerBundle[];
  metafile: Metafile;
}

export const handlerEntries = (): string[] =>
  readdirSync('functions')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join('functions', file));

/** Output files reachable from `file` through static imports (the file itself included). */
export function eagerOutputs(metafile: Metafile, file: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(file);
  return [...seen];
}

/** Every output chunk reachable from `file` at all (static or dynamic imports). */
function reachableOutputs(metafile: Metafile, file: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) if (!imported.external) visit(imported.path);
  };
  visit(file);
  return [...seen];
}

const bytesOf = (metafile: Metafile, files: readonly string[]): number =>
  files.reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0);

export async function buildHandlers(
  options: { outDir?: string; entries?: string[] } = {},
): Promise<BuildResult> {
  const outDir = options.outDir ?? OUT_DIR;
  const entries = options.entries ?? handlerEntries();
  const { metafile } = await build({
    // Flat names (dist/login.mjs) whatever folder an entry comes from.
    entryPoints: entries.map((entry) => ({ in: entry, out: basename(entry, '.ts') })),
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
    // The AWS SDK ships ES modules beside CommonJS: take them. A code-split chunk of a CommonJS
    // package only has a default export, so `(await import('@aws-sdk/client-sqs')).SQSClient`
    // would be undefined; the ES build also tree-shakes better.
    mainFields: ['module', 'main'],
    // node:http without undici at import (see bin/node-http.ts); serverless.yml does the same.
    alias: NODE_HTTP_ALIAS,
    // ESM bundles that contain CommonJS dependencies need a real `require`.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  const bundles = entries.map((entry): HandlerBundle => {
    const name = basename(entry, '.ts');
    // Metafile paths are relative to the working directory.
    const file = relative(process.cwd(), resolve(outDir, `${name}.mjs`));
    const eagerFiles = eagerOutputs(metafile, file);
    const eagerBytes = bytesOf(metafile, eagerFiles);
    return { name, file, eagerBytes, eagerFiles, lazyBytes: bytesOf(metafile, reachableOutputs(metafile, file)) - eagerBytes };
  });
  return { bundles, metafile };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { bundles } = await buildHandlers();
  console.log(`${'function'.padEnd(32)} ${'eager KB'.padStart(9)} ${'lazy KB'.padStart(9)}`);
  for (const b of bundles) {
    console.log(`${b.file.padEnd(32)} ${(b.eagerBytes / 1024).toFixed(1).padStart(9)} ${(b.lazyBytes / 1024).toFixed(1).padStart(9)}`);
  }
}
