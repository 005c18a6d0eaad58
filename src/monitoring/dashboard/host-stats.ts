import { execFile } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { setHostStats } from '../metrics';

export interface GpuStat {
  readonly index: number;
  readonly name: string;
  /** 0..1 */
  readonly utilization: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
}

export interface HostStats {
  /** 0..1 over all cores since the previous sample. */
  readonly cpuUtilization: number;
  readonly cores: number;
  readonly loadAverage1m: number;
  readonly memoryUsedRatio: number;
  readonly gpus: readonly GpuStat[];
  /** Why no GPU is listed, when none is. */
  readonly gpuNote?: string;
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
  }
  return { idle, total };
}

/** Parses `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuStat[] {
  const MiB = 1024 * 1024;
  return csv
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, name, util, used, total] = line.split(',').map((x) => x.trim());
      const num = (v: string | undefined, field: string) => {
        const n = Number(v);
        if (!Number.isFinite(n))
          throw new RangeError(`nvidia-smi ${field}: "${v}" is not a number in line "${line}"`);
        return n;
      };
      return {
        index: num(index, 'index'),
        name: name ?? '',
        utilization: num(util, 'utilization.gpu') / 100,
        memoryUsedBytes: num(used, 'memory.used') * MiB,
        memoryTotalBytes: num(total, 'memory.total') * MiB,
      };
    });
}

/** GPU stats when nvidia-smi is on PATH (NVIDIA_SMI overrides the binary); otherwise none with the reason. */
export function readGpus(
  bin = process.env.NVIDIA_SMI ?? 'nvidia-smi',
): Promise<{ gpus: GpuStat[]; note?: string }> {
  return new Promise((resolve) => {
    execFile(
      bin,
      ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 3000 },
      (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          resolve({
            gpus: [],
            note:
              code === 'ENOENT'
                ? 'no GPU: nvidia-smi not found'
                : `nvidia-smi failed: ${err.message.split('\n')[0]}`,
          });
          return;
        }
        try {
          resolve({ gpus: parseNvidiaSmi(stdout) });
        } catch (e) {
          resolve({ gpus: [], note: (e as Error).message });
        }
      },
    );
  });
}

/** Samples CPU (delta since the previous call), memory and GPUs; also sets the trader_host_* / trader_gpu_* gauges. */
export class HostSampler {
  private prev = cpuTimes();

  async sample(): Promise<HostStats> {
    const now = cpuTimes();
    const dTotal = now.total - this.prev.total;
    const cpuUtilization =
      dTotal > 0 ? Math.min(1, Math.max(0, 1 - (now.idle - this.prev.idle) / dTotal)) : 0;
    this.prev = now;
    const { gpus, note } = await readGpus();
    setHostStats({ cpuUtilization, gpus });
    return {
      cpuUtilization,
      cores: cpus().length,
      loadAverage1m: loadavg()[0] ?? 0,
      memoryUsedRatio: 1 - freemem() / totalmem(),
      gpus,
      ...(note ? { gpuNote: note } : {}),
    };
  }
}

/**
 * Keeps trader_host_cpu_utilization_ratio and the GPU gauges current in a worker (the Grafana system panels
 * read them). Returns a stop function; the timer does not keep the process alive.
 */
export function startHostSampling(
  intervalMs = 15_000,
  onError: (err: Error) => void = () => undefined,
): () => void {
  const sampler = new HostSampler();
  const timer = setInterval(() => void sampler.sample().catch(onError), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
