import { cpus, totalmem } from "node:os";

/** What the figures were measured on: they mean little without it. */
export function describeMachine(postgresVersion: string): string[] {
  const model = cpus()[0]?.model.trim() ?? "unknown";
  return [
    `cpus: ${cpus().length} × ${model}`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node: ${process.version}, ${postgresVersion}`,
  ];
}
