import { readdirSync, readFileSync } from "node:fs";

// Linux reports utime/stime in clock ticks; 100 per second on every mainstream kernel build.
const TICKS_PER_SECOND = 100;

export type CpuSnapshot = { service: number; postgres: number; bench: number; machine: number };

/**
 * CPU seconds used so far by the service process(es), by all postgres processes, by this process,
 * and by the whole machine: the difference of two snapshots says which one was the bottleneck.
 */
export function cpuSeconds(servicePids: number | readonly number[]): CpuSnapshot {
  const pids = typeof servicePids === "number" ? [servicePids] : servicePids;
  const stats = new Map<number, Stat>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) stats.set(Number(name), stat);
  }
  let postgres = 0;
  for (const stat of stats.values()) {
    if (stat.comm !== "postgres") continue;
    // Backends come and go (pool connections, autovacuum workers): the postmaster's count of its
    // reaped children keeps the CPU of those that exited between two snapshots.
    const isPostmaster = stats.get(stat.ppid)?.comm !== "postgres";
    postgres += stat.seconds + (isPostmaster ? stat.reapedChildrenSeconds : 0);
  }
  const own = process.cpuUsage();
  return {
    service: pids.reduce((sum, pid) => sum + (stats.get(pid)?.seconds ?? 0), 0),
    postgres,
    bench: (own.user + own.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot {
  return {
    service: b.service - a.service,
    postgres: b.postgres - a.postgres,
    bench: b.bench - a.bench,
    machine: b.machine - a.machine,
  };
}

type Stat = { comm: string; ppid: number; seconds: number; reapedChildrenSeconds: number };

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces or parentheses.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // Fields after comm, 1-based as in man 5 proc: ppid 4, utime 14, stime 15, cutime 16, cstime 17.
  const field = (n: number) => Number(fields[n - 3]);
  return {
    comm,
    ppid: field(4),
    seconds: (field(14) + field(15)) / TICKS_PER_SECOND,
    reapedChildrenSeconds: (field(16) + field(17)) / TICKS_PER_SECOND,
  };
}

function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, ...values] = line.trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = values.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}
