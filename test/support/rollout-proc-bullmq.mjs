// BullMQ as the app sees it under rollout-proc-fast-stall.mjs: the same library, with a Worker
// whose lock and stall-check defaults are short. Options the app passes still win.
import { Worker as BullWorker } from "bullmq";

export * from "bullmq";

export const FAST_STALL = { lockDuration: 2_000, stalledInterval: 1_000 };

export class Worker extends BullWorker {
  constructor(name, processor, opts, connection) {
    super(name, processor, { ...FAST_STALL, ...opts }, connection);
  }
}
