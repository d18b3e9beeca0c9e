import { percentile } from "./percentile.js";
import type { HeapFigures } from "./read-heap.js";
import type { GroupResult } from "./run-group.js";
import { type GroupSummary, summarizeRounds } from "./summarize-rounds.js";

export type RunReport = {
  date: Date;
  cpus: number;
  machine: string[];
  concurrency: number;
  /** Node flags the service ran with beyond the defaults; printed, since they change the figures. */
  serviceNodeArgs: string[];
  results: GroupResult[];
  rss: {
    idleKb: number;
    idleHeap: HeapFigures | null;
    /** Two seconds after the last upload. */
    settled: { rssKb: number; heap: HeapFigures | null };
    probeHwmKb: number;
    probeBody: number;
    probeErrors: string[];
    probeLatenciesMs: number[];
  };
  rowsInDb: { ours: number; copied: number };
  /** Findings stored by the memory probe and the warm-up: in the table, not in the figures. */
  untimedFindings: number;
  /** What the service wrote at LOG_LEVEL=warn (the tail): a warning under load is a finding. */
  serviceOutput: string;
};

const COPY_BAR = 0.3;
const RSS_BAR = 4;
const REQUIRED_UPLOADS_PER_S = 1.4;
const FLEET_FINDINGS = 1_250_000;
const FLEET_IMAGES = 5_000;

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const dec = (n: number, d = 1) => n.toFixed(d);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kbMb = (kb: number) => mb(kb * 1024);
const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
const times = (n: number) => `${dec(n, 1)}×`;

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "),
  );
}

/** Prints every figure, the ratios and a PASS/FAIL per bar; returns whether every bar passed. */
export function printResults(r: RunReport): boolean {
  const out: string[] = [];
  const say = (s = "") => out.push(s);
  const groups = summarizeRounds(r.results);
  const rounds = Math.max(...groups.map((g) => g.rounds.length));
  const perImage = FLEET_FINDINGS / FLEET_IMAGES;

  say(`patchpilot bench:ingest — ${r.date.toISOString()}`);
  say();
  say("Sizing target (QUALITY.md): 5,000 images, 200 teams, ≈1.25 M open findings, ≈1.4 scan uploads/s");
  say(
    `  → ≈${int(perImage)} findings per report on average, ≈${int(REQUIRED_UPLOADS_PER_S * perImage)} findings/s`,
  );
  say("Machine:");
  for (const m of r.machine) say(`  ${m}`);
  say(
    "Load: the service is a child process (node bin/patchpilot.js start); this process posts over loopback HTTP, " +
      `${r.concurrency} uploads in flight, no pipelining; every upload a distinct digest; 1 in 4 re-scans an earlier image (diff path).`,
  );
  if (r.serviceNodeArgs.length > 0) say(`Service node flags: ${r.serviceNodeArgs.join(" ")}`);
  say(
    "Baseline: psql \\copy of the same rows (our parseScanReport output) into the same findings table, one \\copy per group, " +
      "timed by psql's \\timing (psql start-up and connecting excluded).",
  );
  say(
    `Rounds: every group runs ${rounds} times (all groups, then all again); each side keeps its best round, ` +
      "latencies and errors are of all rounds.",
  );
  say();
  printThroughput(groups, say);
  printTotals(r, groups, say);
  printCpu(r, groups, say);
  const rss = printMemory(r, groups, say);

  const ratiosPass = groups.every((g) => g.bestOurs / g.bestCopy >= COPY_BAR);
  const large = groups.filter((g) => g.size >= 2_500);
  const largePass = large.every((g) => g.bestOurs / g.bestCopy >= COPY_BAR);
  const errors = [...r.rss.probeErrors, ...groups.flatMap((g) => g.errors)];
  const skipped = groups.reduce((n, g) => n + g.skipped, 0);
  const noErrors = errors.length === 0 && skipped === 0;
  say("Bars:");
  say(`  ${verdict(ratiosPass)}  findings/s ≥ 30% of COPY, every size and shape`);
  say(`  ${verdict(largePass)}    … reports of 2,500 findings and more`);
  say(`  ${verdict(noErrors)}  0 errors, every upload sent (${errors.length} errors, ${skipped} not sent)`);
  say(`  ${verdict(rss.strict)}  peak RSS (VmHWM) < 4× largest body: ${times(rss.strictRatio)}`);
  say(
    `  ${verdict(rss.growth)}    … growth over idle, ${r.concurrency} in flight: ${times(rss.growthRatio)}`,
  );
  say(`  ${verdict(rss.single)}    … growth over idle, 1 upload in flight: ${times(rss.singleRatio)}`);
  say();

  say(
    `Headroom (measured uploads/s at ${r.concurrency} in flight ÷ ${REQUIRED_UPLOADS_PER_S} required; slower shape):`,
  );
  for (const size of [...new Set(groups.map((g) => g.size))]) {
    const worst = Math.min(
      ...groups
        .filter((g) => g.size === size)
        .map((g) => g.best.post.completed / (g.best.post.wallMs / 1000)),
    );
    const note = size === perImage ? "  ← the fleet's average report" : "";
    say(
      `  ${int(size).padStart(6)} findings/upload: ${dec(worst)} uploads/s → ${times(worst / REQUIRED_UPLOADS_PER_S)}${note}`,
    );
  }
  const logLines = [
    ...new Set(r.serviceOutput.split("\n").filter((l) => l.trim() && !/ready on port/.test(l))),
  ];
  say(
    `Service output at LOG_LEVEL=warn: ${logLines.length === 0 ? "none" : `${logLines.length} distinct line(s)`}`,
  );
  for (const l of logLines.slice(0, 5)) say(`  ${l.slice(0, 300)}`);
  const allPass = ratiosPass && noErrors && rss.strict;
  say();
  say(allPass ? "RESULT: PASS" : "RESULT: FAIL — see the bars above");
  process.stdout.write(`${out.join("\n")}\n`);
  return allPass;
}

type Say = (s?: string) => void;

function printThroughput(groups: GroupSummary[], say: Say): void {
  const header = [
    "shape",
    "findings/upload",
    "uploads",
    "body",
    "wall s",
    "uploads/s",
    "findings/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "COPY findings/s",
    "ours/COPY",
    "≥30%",
  ];
  const rows = groups.map((g) => [
    g.shape,
    int(g.size),
    `${g.best.post.completed}/${g.count}`,
    mb(g.best.largestBody),
    dec(g.best.post.wallMs / 1000, 2),
    dec(g.best.post.completed / (g.best.post.wallMs / 1000)),
    int(g.bestOurs),
    int(percentile(g.latenciesMs, 50)),
    int(percentile(g.latenciesMs, 99)),
    String(g.errors.length),
    int(g.bestCopy),
    pct(g.bestOurs / g.bestCopy),
    verdict(g.bestOurs / g.bestCopy >= COPY_BAR),
  ]);
  for (const line of table([header, ...rows])) say(line);
  say("  (p99 is nearest-rank: with fewer than 100 uploads it is the slowest one)");
  say("  every round, findings/s ours | COPY:");
  for (const g of groups)
    say(
      `    ${g.shape} ${int(g.size)}: ${g.oursPerSecond.map(int).join(", ")} | ${g.copyPerSecond.map(int).join(", ")}`,
    );
}

function printTotals(r: RunReport, groups: GroupSummary[], say: Say): void {
  const findings = groups.reduce((n, g) => n + g.best.post.storedFindings, 0);
  const oursSeconds = groups.reduce((n, g) => n + g.best.post.storedFindings / g.bestOurs, 0);
  const copySeconds = groups.reduce((n, g) => n + g.best.totalFindings / g.bestCopy, 0);
  say(
    `  all sizes, best rounds: ours ${int(findings)} findings in ${dec(oursSeconds, 2)} s = ${int(findings / oursSeconds)}/s; ` +
      `COPY in ${dec(copySeconds, 2)} s = ${int(findings / copySeconds)}/s; ours/COPY ${pct(copySeconds / oursSeconds)}`,
  );
  const stored = r.results.reduce((n, g) => n + g.post.storedFindings, 0);
  const copied = r.results.reduce((n, g) => n + g.totalFindings, 0);
  say(
    `  rows in the database: ${int(r.rowsInDb.ours)} stored by uploads (expected ${int(stored + r.untimedFindings)}, ` +
      `${int(r.untimedFindings)} of them from the memory probe and warm-up), ${int(r.rowsInDb.copied)} by COPY (expected ${int(copied)})`,
  );
  for (const g of groups) {
    const d = g.best.post.diff;
    say(
      `  diff path ${g.shape} ${int(g.size)}: ${g.best.rescans} re-scans per round; summed over the round ` +
        `(a first scan is all new): new ${int(d.new)}, fixed ${int(d.fixed)}, unchanged ${int(d.unchanged)}`,
    );
  }
  const errors = [...r.rss.probeErrors, ...groups.flatMap((g) => g.errors)];
  for (const e of errors.slice(0, 10)) say(`  error: ${e}`);
  say();
}

function printCpu(r: RunReport, groups: GroupSummary[], say: Say): void {
  say(
    `CPU seconds during the best round's uploads (${r.cpus} CPUs = ${r.cpus} s per wall second; ` +
      "others = processes outside this benchmark on the shared machine):",
  );
  const rows = groups.map((g) => {
    const wall = g.best.post.wallMs / 1000;
    const c = g.best.cpu;
    return [
      g.shape,
      int(g.size),
      dec(wall, 2),
      `${dec(c.service, 2)} (${pct(c.service / wall)} of a core)`,
      dec(c.postgres, 2),
      dec(c.bench, 2),
      dec(Math.max(0, c.machine - c.service - c.postgres - c.bench), 2),
      pct(c.machine / (wall * r.cpus)),
    ];
  });
  const header = [
    "shape",
    "findings/upload",
    "wall s",
    "service (node)",
    "postgres",
    "load gen",
    "others",
    "busy",
  ];
  for (const line of table([header, ...rows])) say(`  ${line}`);
  say();
}

function printMemory(r: RunReport, groups: GroupSummary[], say: Say) {
  const body = Math.max(r.rss.probeBody, ...groups.map((g) => g.best.largestBody));
  const { idleKb, probeHwmKb } = r.rss;
  const peakKb = Math.max(probeHwmKb, ...groups.map((g) => g.peakRssKb));
  const ratio = (kb: number) => (kb * 1024) / body;
  say(`Service memory (largest body ${mb(body)}; bar: peak RSS < ${RSS_BAR}× = ${mb(RSS_BAR * body)}):`);
  const heap = (h: HeapFigures | null) =>
    h ? `V8 heap ${mb(h.totalBytes)} (${mb(h.usedBytes)} used), external ${mb(h.externalBytes)}` : "heap n/a";
  say(`  idle before any upload: VmRSS ${kbMb(idleKb)}; ${heap(r.rss.idleHeap)}`);
  say(
    `  1 in flight (2 × grype 25,000 first, ${int(percentile(r.rss.probeLatenciesMs, 50))} ms each): VmHWM ${kbMb(probeHwmKb)}` +
      ` = ${times(ratio(probeHwmKb))} body; growth over idle ${kbMb(probeHwmKb - idleKb)} = ${times(ratio(probeHwmKb - idleKb))} body`,
  );
  for (const g of groups)
    say(
      `  ${g.shape.padEnd(5)} ${int(g.size).padStart(6)}, ${r.concurrency} in flight: VmHWM ${kbMb(g.peakRssKb)} ` +
        `(bodies of ${mb(g.best.largestBody)}); after the best round ${heap(g.best.heapAfter)}`,
    );
  say(
    `  whole run: VmHWM ${kbMb(peakKb)} = ${times(ratio(peakKb))} body; growth over idle ${kbMb(peakKb - idleKb)} = ` +
      `${times(ratio(peakKb - idleKb))} body (${times(ratio(peakKb - idleKb) / r.concurrency)} per upload in flight)`,
  );
  say(`  2 s after the last upload: VmRSS ${kbMb(r.rss.settled.rssKb)}; ${heap(r.rss.settled.heap)}`);
  say();
  return {
    strict: peakKb * 1024 < RSS_BAR * body,
    strictRatio: ratio(peakKb),
    growth: (peakKb - idleKb) * 1024 < RSS_BAR * body,
    growthRatio: ratio(peakKb - idleKb),
    single: (probeHwmKb - idleKb) * 1024 < RSS_BAR * body,
    singleRatio: ratio(probeHwmKb - idleKb),
  };
}
