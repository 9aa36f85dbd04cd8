// Runs before `npm start` / `npm test` so that they work as the very first command on a fresh
// clone: installs dependencies when node_modules is missing or older than package-lock.json.
// Plain JavaScript on purpose: it runs on whatever Node the machine has, before the pinned one
// (the `node` devDependency) is installed.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const lock = 'package-lock.json';
const installed = 'node_modules/.package-lock.json';
const stale =
  !existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs);

if (stale) {
  // The project pins Node 24 (the `node` devDependency) and runs on it; an older system Node only
  // runs this script, so npm's EBADENGINE warnings about it are noise: errors only.
  console.error('[ensure-deps] installing dependencies (npm ci); Node 24 is pinned by the project and used for npm start/test...');
  execSync('npm ci --no-audit --no-fund --loglevel=error', { stdio: 'inherit' });
}
