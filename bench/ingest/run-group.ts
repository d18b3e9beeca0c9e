import { rm } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import { buildUploads, type GroupSpec } from "./build-uploads.js";
import { copyFindings, insertBaselineScans, type PsqlTarget } from "./copy-baseline.js";
import { type CpuSnapshot, cpuDelta, cpuSeconds } from "./cpu-seconds.js";
import { type PostOutcome, postUploads } from "./post-uploads.js";
import { type HeapFigures, readHeap } from "./read-heap.js";
import type { RssSampler } from "./sample-rss.js";

export type GroupContext = {
  baseUrl: string;
  uploadUrl: string;
  token: string;
  tmpDir: string;
  nextDigest: () => number;
  rss: RssSampler;
  servicePid: number;
  owner: pg.Pool;
  psql: PsqlTarget;
  concurrency: number;
  /** No upload is sent after this instant (performance.now()). */
  deadline: number;
};

export type GroupResult = {
  spec: GroupSpec;
  rescans: number;
  totalFindings: number;
  largestBody: number;
  post: PostOutcome;
  rssBeforeKb: number;
  /** VmHWM over the uploads (sampled VmRSS where VmHWM cannot be reset). */
  peakRssKb: number;
  copyMs: number;
  /** CPU seconds spent during the uploads (not the COPY), by process. */
  cpu: CpuSnapshot;
  /** The service's V8 heap right after the uploads. */
  heapAfter: HeapFigures | null;
};

/**
 * One size and shape: the reports are built first (untimed), posted through the service, then
 * the same normalized rows are COPYed into the same table, so both sides see the same database.
 */
export async function runGroup(ctx: GroupContext, spec: GroupSpec): Promise<GroupResult> {
  const csvFile = join(ctx.tmpDir, `${spec.name ?? `${spec.shape}-${spec.size}`}.csv`);
  const built = await buildUploads(spec, ctx.nextDigest, csvFile);
  // Both timed phases start from a clean checkpoint, so neither pays for the other's dirty pages.
  await ctx.owner.query("CHECKPOINT");
  const rssBeforeKb = ctx.rss.now();
  const exactPeak = ctx.rss.resetPeak();
  const cpuBefore = cpuSeconds(ctx.servicePid);
  const t0 = performance.now();
  const post = await postUploads(ctx.uploadUrl, ctx.token, built.uploads, {
    concurrency: ctx.concurrency,
    deadline: ctx.deadline,
  });
  const cpu = cpuDelta(cpuBefore, cpuSeconds(ctx.servicePid));
  // One more sample period, so a peak at the very end is included.
  await new Promise((r) => setTimeout(r, 60));
  const heapAfter = await readHeap(ctx.baseUrl);
  const peakRssKb = exactPeak ? ctx.rss.highWaterMark() : ctx.rss.peakBetween(t0, performance.now());
  await insertBaselineScans(ctx.owner, built.baselineScanIds, spec.size);
  await ctx.owner.query("CHECKPOINT");
  const copyMs = await copyFindings(ctx.psql, csvFile);
  await rm(csvFile, { force: true });
  return {
    spec,
    rescans: built.uploads.filter((u) => u.rescan).length,
    totalFindings: built.totalFindings,
    largestBody: built.largestBody,
    post,
    rssBeforeKb,
    peakRssKb,
    copyMs,
    cpu,
    heapAfter,
  };
}
