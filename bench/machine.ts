/** The machine a run was taken on: figures from different machines are not comparable. */
import { cpus, totalmem, type as osType, release, arch } from 'node:os';

export interface Machine {
  os: string;
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
}

export function describeMachine(): Machine {
  const processors = cpus();
  return {
    os: `${osType()} ${release()} ${arch()}`,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
  };
}
