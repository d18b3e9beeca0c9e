// Module hook: `import … from "bullmq"` anywhere in the app gets rollout-proc-bullmq.mjs instead.
const WRAPPER = new URL("./rollout-proc-bullmq.mjs", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "bullmq" && context.parentURL !== WRAPPER) return { url: WRAPPER, shortCircuit: true };
  return nextResolve(specifier, context);
}
