/**
 * The approve-txn baseline: the statements one `approveStage` really sends, captured at the
 * driver (every `pg` query of the call, in order, with its parameters and first row), turned into
 * a pgbench script that sends the same statement texts in the same order with `-M prepared`.
 */
import pg from "pg";

export type Captured = {
  text: string;
  values: unknown[];
  /** The first row by column name, and how many rows came back. */
  row: Record<string, unknown> | null;
  rows: number;
  /** Set on a statement sent in one request with an earlier one (`sendTogether`): the first one's number. */
  sameRoundTripAs?: number;
};

type QueryResult = { rows: unknown[]; fields?: Array<{ name: string }> };

/**
 * The first row by column name. A name the row has twice (a join's `id`s) is told apart by its
 * position, `id_4`, and `replayScript` gives that column the same alias, so `\aset` can name it.
 */
function firstRow(result: QueryResult | undefined): Record<string, unknown> | null {
  const first = result?.rows?.[0];
  if (first === undefined) return null;
  if (!Array.isArray(first)) return first as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  (result?.fields ?? []).forEach((f, i) => {
    row[f.name in row ? `${f.name}_${i}` : f.name] = first[i];
  });
  return row;
}

/** `select a, b, a from …` with the repeated names aliased as `firstRow` names them. */
function aliasRepeatedColumns(text: string, row: Record<string, unknown>): string {
  const repeated = Object.keys(row).filter((k) => /_\d+$/.test(k) && k.replace(/_\d+$/, "") in row);
  const m = /^(select )(.*?)( from .*)$/is.exec(text);
  if (repeated.length === 0 || !m) return text;
  const items = (m[2] ?? "").split(", ");
  if (items.length !== Object.keys(row).length) return text;
  for (const k of repeated) {
    const i = Number(/_(\d+)$/.exec(k)?.[1]);
    if (items[i] !== undefined) items[i] = `${items[i]} AS "${k}"`;
  }
  return `${m[1]}${items.join(", ")}${m[3]}`;
}

/**
 * Runs `fn` and returns what it sent to Postgres through any `pg` client of this process. The
 * statements of one `sendTogether` call travelled in one round trip; they are marked so.
 */
export async function captureStatements<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; statements: Captured[] }> {
  const statements: Captured[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [config, values] = args;
    // Statements sent together (`sendTogether`) are one request: one round trip.
    const batch = config as { statements?: Array<{ text: string; values: unknown[] }>; done?: unknown };
    if (Array.isArray(batch?.statements) && batch.done instanceof Promise) {
      const first = statements.length + 1;
      const entries = batch.statements.map((s, k) => {
        const entry: Captured = {
          text: s.text,
          values: s.values,
          row: null,
          rows: 0,
          ...(k > 0 ? { sameRoundTripAs: first } : {}),
        };
        statements.push(entry);
        return entry;
      });
      batch.done.then(
        (results: Array<Array<Record<string, unknown>>>) =>
          results.forEach((rows, k) => {
            const entry = entries[k];
            if (!entry) return;
            entry.row = rows[0] ?? null;
            entry.rows = rows.length;
          }),
        () => {},
      );
      return original.apply(this, args);
    }
    const text = typeof config === "string" ? config : (config as { text: string }).text;
    const params = (
      Array.isArray(values) ? values : ((config as { values?: unknown[] }).values ?? [])
    ) as unknown[];
    const entry: Captured = { text, values: params, row: null, rows: 0 };
    statements.push(entry);
    const seen = (r: QueryResult | undefined) => {
      entry.row = firstRow(r);
      entry.rows = r?.rows?.length ?? 0;
    };
    // pg-pool's `query` passes a callback; drizzle's transactions await the promise.
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function")
      args[last] = (err: unknown, r: QueryResult) => {
        if (!err) seen(r);
        callback(err, r);
      };
    const out = original.apply(this, args);
    if (out instanceof Promise)
      return out.then((r: QueryResult) => {
        seen(r);
        return r;
      });
    return out;
  };
  try {
    return { value: await fn(), statements };
  } finally {
    proto.query = original;
  }
}

/** How the script finds the approval's own rollout (`:rid`) and what must differ per transaction. */
export type ReplayKnowledge = {
  rolloutId: number;
  /** Values a second approval could not repeat (the voter, so the vote is inserted, not a conflict). */
  uniquePerApproval: string[];
  /**
   * A value that keys what a team's approvals share (the App Home refresh intent, one per team
   * and window): a key naming it becomes one of `among`, as many as the fleet has teams.
   */
  perTeam: { value: string; among: number };
};

export type ReplayScript = { script: string; defines: string[]; summary: string[] };

const asText = (v: unknown): string =>
  v instanceof Date
    ? v.toISOString()
    : Array.isArray(v)
      ? `{${v.map((x) => JSON.stringify(String(x))).join(",")}}` // as pg sends an array
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

// A value worth tracing to an earlier result: ids, digests, hashes (not 1, true or 'ok').
const distinctive = (s: string) => s.length >= 8 || (/^\d+$/.test(s) && Number(s) >= 1000);

/**
 * The pgbench script replaying `statements`: each parameter becomes a variable. Values an earlier
 * one-row SELECT returned are taken from it (`\aset`: the last row's, since pgbench's rollouts
 * gather votes and a read joining them may return several), so the script acts on the rollout pgbench
 * picked (a rollout no transaction before it approved: see the first lines); the audit row's seq
 * is the chain head's plus one; values a transaction must not share
 * with another (the vote's voter, dispatch ids and dedupe keys naming the rollout, the new hash)
 * are random; a key naming the team is one of as many as there are teams; everything else is the
 * captured constant (`-D`). A NULL parameter is sent as NULL.
 */
export function replayScript(statements: readonly Captured[], know: ReplayKnowledge): ReplayScript {
  const sources = new Map<string, string>();
  const gset = new Set<number>();
  const constants = new Map<string, string>();
  const lines = [
    // Each transaction approves a rollout of its own, as each of ours does: client c's k-th takes
    // the (offset + (k - 1) × clients + c)-th of pgbench's set (variables live across a client's
    // transactions; the bench passes k=0, offset and nclients with -D).
    "\\set k :k + 1",
    "\\set rid :first + (:offset + (:k - 1) * :nclients + :client_id) % :count",
    "-- generated by bench/approve-txn/replay-script.ts from one approveStage call",
  ];
  const summary: string[] = [];
  const rid = String(know.rolloutId);
  const namesRollout = new RegExp(`(^|\\D)${rid}(\\D|$)`);
  const namesTeam = new RegExp(
    `(^|[^\\w-])${know.perTeam.value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^\\w-]|$)`,
  );
  const randoms = new Map<string, string>();
  const body: string[][] = statements.map(() => []);
  statements.forEach((st, i) => {
    const pre: string[] = [];
    const kinds = new Set<string>();
    // One value as pgbench sends it: a variable (or NULL).
    const param = (value: unknown, n: string): string => {
      if (value === null || value === undefined) {
        kinds.add("null");
        return "NULL";
      }
      const s = asText(value);
      if (s === rid) {
        kinds.add("rid");
        return ":rid";
      }
      const from = distinctive(s) ? sources.get(s) : undefined;
      if (from) {
        gset.add(Number(from.split("_")[0]?.slice(1)));
        kinds.add("result");
        return `:${from}`;
      }
      const previous = /^\d+$/.test(s) ? sources.get(String(Number(s) - 1)) : undefined;
      if (previous && distinctive(String(Number(s) - 1))) {
        gset.add(Number(previous.split("_")[0]?.slice(1)));
        const name = `next${i}_${n}`;
        pre.push(`\\set ${name} :${previous} + 1`);
        kinds.add("result+1");
        return `:${name}`;
      }
      const json = s.startsWith("{") || s.startsWith("[");
      // The same value twice (a dedupe key inserted, then looked up) is the same variable.
      const drawn = randoms.get(s);
      if (drawn) {
        kinds.add("random");
        return `:${drawn}`;
      }
      const among = !json && namesTeam.test(s) ? know.perTeam.among : null;
      if (
        among !== null ||
        know.uniquePerApproval.includes(s) ||
        (!json && namesRollout.test(s)) ||
        (/^[0-9a-f]{64}$/.test(s) && !sources.has(s))
      ) {
        const name = `${among === null ? "u" : "t"}${randoms.size + 1}`;
        randoms.set(s, name);
        pre.push(`\\set ${name} random(1, ${among ?? "9000000000000000000"})`);
        kinds.add(among === null ? "random" : "one of the teams'");
        return `:${name}`;
      }
      let name = constants.get(s);
      if (!name) {
        name = `c${constants.size + 1}`;
        constants.set(s, name);
      }
      kinds.add("constant");
      return `:${name}`;
    };
    // An array parameter becomes ARRAY[…] of its elements, each traced, drawn or kept as above
    // (a dedupe key inside an array must still differ per transaction).
    const text = st.text.replace(/\$(\d+)/g, (_, n: string) => {
      const value = st.values[Number(n) - 1];
      return Array.isArray(value)
        ? `ARRAY[${value.map((v, k) => param(v, `${n}_${k}`)).join(", ")}]`
        : param(value, n);
    });
    body[i] = [...pre, st.row && st.rows === 1 ? aliasRepeatedColumns(text, st.row) : text];
    summary.push(
      `${i + 1}. ${st.text.slice(0, 90)}${st.text.length > 90 ? "…" : ""} [${[...kinds].join(", ")}]${st.sameRoundTripAs ? ` (sent with ${st.sameRoundTripAs})` : ""}`,
    );
    // Its values may feed later parameters only if it is a SELECT that returns exactly one row.
    if (/^\s*select/i.test(st.text) && st.rows === 1 && st.row)
      for (const [col, v] of Object.entries(st.row))
        if (v !== null && v !== undefined && !sources.has(asText(v))) sources.set(asText(v), `q${i}_${col}`);
  });
  // Statements we sent in one round trip go to pgbench as one pipeline (one round trip too),
  // unless a later statement needs one of their results: `\aset` cannot be used in a pipeline.
  const groups: number[][] = [];
  statements.forEach((st, i) => {
    if (st.sameRoundTripAs !== undefined && groups.length > 0) groups.at(-1)?.push(i);
    else groups.push([i]);
  });
  for (const group of groups) {
    const pipelined = group.length > 1 && !group.some((i) => gset.has(i));
    for (const i of group) lines.push(...(body[i] ?? []).slice(0, -1));
    if (pipelined) lines.push("\\startpipeline");
    for (const i of group) lines.push(`${body[i]?.at(-1)}${gset.has(i) ? ` \\aset q${i}_` : ";"}`);
    if (pipelined) lines.push("\\endpipeline");
    if (group.length > 1)
      summary.push(
        `statements ${group.map((i) => i + 1).join(", ")}: ${pipelined ? "one pipeline" : "one round trip each (a result is read by a later statement, so no pipeline)"}`,
      );
  }
  return {
    script: `${lines.join("\n")}\n`,
    defines: [...constants].flatMap(([value, name]) => ["-D", `${name}=${value}`]),
    summary,
  };
}
