#!/usr/bin/env node
// Launcher of the `tpns-accounts` CLI (package.json "bin"): registers tsx so Node runs the
// TypeScript sources in cli/ directly; no build step to forget. Through `npx tpns-accounts`
// node_modules/.bin comes first on PATH, so `node` here is the pinned Node 24.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
