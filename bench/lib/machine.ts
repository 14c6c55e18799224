/** The machine a run was measured on: benchmark numbers mean nothing without it. */
import { cpus, release, totalmem } from 'node:os';
import { run } from './proc.js';

/** Versions and sizes of what the benchmarks depend on. */
export interface Machine {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  readonly os: string;
  readonly node: string;
  readonly git: string;
  readonly gpg: string;
  readonly docker: string;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  return run(cmd, args).then(
    (out) => out.split('\n')[0]?.trim() ?? '',
    (e: unknown) => `unavailable (${String(e).slice(0, 80)})`,
  );
}

/** Describe this machine. */
export async function describeMachine(): Promise<Machine> {
  return {
    date: new Date().toISOString(),
    nproc: Number((await firstLine('nproc', [])) || cpus().length),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    os: `Linux ${release()}`,
    node: process.version,
    git: await firstLine('git', ['--version']),
    gpg: await firstLine('gpg', ['--version']),
    docker: await firstLine('docker', [
      'version',
      '--format',
      'server {{.Server.Version}}, client {{.Client.Version}}',
    ]),
  };
}
