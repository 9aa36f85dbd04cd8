/**
 * CPU time per process group while a scenario runs: the bench process (admin handler, event
 * source, raw fetch client), the worker containers, fauxqs and the TPNS emulator. On a 2-core
 * machine the pipeline's throughput is bounded by the CPU it spends per item; this says where.
 */
import type { EmulatorProcess } from './emulator-process.js';
import type { SqsProcess } from './sqs-process.js';
import type { WorkerPool } from './worker-pool.js';

export interface CpuSplit {
  bench: number;
  workers: number;
  sqs: number;
  emulator: number;
  total: number;
}

export type CpuMeter = () => Promise<CpuSplit>;

/** Starts measuring; the returned function gives the CPU ms spent since, per 1 000 `items`. */
export async function startCpuMeter(emulator: EmulatorProcess, sqs: SqsProcess, pool: WorkerPool, items: number): Promise<CpuMeter> {
  const read = async () => {
    const { user, system } = process.cpuUsage();
    return { bench: (user + system) / 1000, workers: await pool.cpuMs(), sqs: await sqs.cpuMs(), emulator: await emulator.cpuMs() };
  };
  const before = await read();
  return async () => {
    const after = await read();
    const per1000 = (key: keyof typeof before) => ((after[key] - before[key]) * 1000) / items;
    const split = { bench: per1000('bench'), workers: per1000('workers'), sqs: per1000('sqs'), emulator: per1000('emulator') };
    return { ...split, total: split.bench + split.workers + split.sqs + split.emulator };
  };
}
