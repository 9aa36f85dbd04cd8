import { runBenchmarks } from './harness.js';
import { DEFAULT_OPTIONS } from './options.js';
import { SCENARIOS } from './scenarios.js';
const names = (process.env.ONLY ?? 'bulk').split(',');
const r = await runBenchmarks({ ...DEFAULT_OPTIONS, runs: 1, coldRuns: 1, out: undefined, items: Number(process.env.ITEMS ?? 10000), signIns: Number(process.env.SIGNINS ?? 2000), warmRequests: Number(process.env.WARM ?? 1000) }, 'tmp', (l) => console.error(l), SCENARIOS.filter((s) => names.includes(s.name)));
console.log(JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !['machine','options','generatedAt','command'].includes(k)).map(([k, v]) => [k, k === 'details' ? Object.fromEntries(Object.entries(v as Record<string, {median:number}>).map(([a, b]) => [a, b.median])) : ('median' in (v as object) ? (v as {median:number}).median : Object.fromEntries(Object.entries(v as Record<string,{median:number}>).map(([a,b]) => [a, b.median])))])), null, 1));
