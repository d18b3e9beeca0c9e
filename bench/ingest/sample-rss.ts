import { readFileSync, writeFileSync } from "node:fs";

export type RssSample = { at: number; kb: number };

export type RssSampler = {
  /** VmRSS now, in kB. */
  now(): number;
  /** The highest sampled VmRSS between two instants (performance.now()), in kB. */
  peakBetween(from: number, to: number): number;
  /** VmHWM: the kernel's own peak resident set since start or the last reset, in kB. */
  highWaterMark(): number;
  /** Resets VmHWM to the current RSS (clear_refs 5); false where the kernel does not allow it. */
  resetPeak(): boolean;
  stop(): void;
};

/**
 * Reads /proc/<pid>/status every `everyMs`. Sampling misses short spikes, VmHWM does not; resetting
 * VmHWM before a phase gives that phase its exact peak.
 */
export function startRssSampler(pid: number, everyMs = 50): RssSampler {
  const samples: RssSample[] = [];
  const take = () => {
    const kb = readStatusKb(pid, "VmRSS");
    if (kb !== null) samples.push({ at: performance.now(), kb });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    now: () => readStatusKb(pid, "VmRSS") ?? 0,
    peakBetween(from, to) {
      let peak = 0;
      for (const s of samples) if (s.at >= from && s.at <= to && s.kb > peak) peak = s.kb;
      return peak;
    },
    highWaterMark: () => readStatusKb(pid, "VmHWM") ?? 0,
    resetPeak() {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
        return true;
      } catch {
        return false;
      }
    },
    stop: () => clearInterval(timer),
  };
}

function readStatusKb(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return m?.[1] ? Number(m[1]) : null;
}
