// Runs before `npm start` / `npm test` so that they work as the very first command on a fresh
// clone: installs dependencies when node_modules is missing or older than package-lock.json.
// `--check` only answers (exit 1 when it would install): the npm start test asks first, since an
// install under a running test suite would pull node_modules away from the other test files.
// Plain JavaScript on purpose: it runs on whatever Node the machine has, before the pinned one
// (the `node` devDependency) is installed.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs);

if (process.argv.includes('--check')) {
  if (stale) console.error('[ensure-deps] node_modules is missing or older than package-lock.json: run npm ci');
  process.exitCode = stale ? 1 : 0;
} else if (stale) {
  // The project pins Node 24 (the `node` devDependency) and runs on it; an older system Node only
  // runs this script, so npm's EBADENGINE warnings about it are noise: errors only.
  console.error('[ensure-deps] installing dependencies (npm ci); Node 24 is pinned by the project and used for npm start/test...');
  execSync('npm ci --no-audit --no-fund --loglevel=error', { stdio: 'inherit', cwd: root });
}
