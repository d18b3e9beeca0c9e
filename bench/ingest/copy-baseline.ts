import { spawn } from "node:child_process";
import type pg from "pg";
import { FINDINGS_COLUMNS } from "./findings-csv.js";

/** Scan rows for the baseline's findings to reference, under an image of their own. */
export async function insertBaselineScans(pool: pg.Pool, scanIds: readonly string[], findingCount: number) {
  const image = await pool.query<{ id: string }>(
    `INSERT INTO images (repository) VALUES ('bench/copy-baseline')
     ON CONFLICT (repository) DO UPDATE SET repository = EXCLUDED.repository RETURNING id`,
  );
  const imageId = image.rows[0]?.id;
  if (!imageId) throw new Error("baseline image insert returned nothing");
  await pool.query(
    `INSERT INTO scans (id, image_id, digest, format, scanner_name, content_hash, finding_count, diff)
     SELECT u.id, $1, 'sha256:' || md5(u.id::text), 'trivy', 'copy-baseline', md5(u.id::text), $2,
       '{"new":0,"fixed":0,"unchanged":0}'::jsonb
     FROM unnest($3::uuid[]) AS u(id)`,
    [imageId, findingCount, scanIds],
  );
}

export type PsqlTarget = { host: string; port: string; user: string; database: string };

/**
 * `\copy findings (…) FROM 'file' WITH (FORMAT csv)`: the fastest way rows get into that table.
 * The time is psql's own `\timing` of the \copy (client file read included, process start-up and
 * connecting not), so small groups are not dominated by starting psql.
 */
export function copyFindings(target: PsqlTarget, csvFile: string): Promise<number> {
  const file = csvFile.replaceAll("'", "''");
  const copy = `\\copy findings (${FINDINGS_COLUMNS.join(", ")}) FROM '${file}' WITH (FORMAT csv)`;
  return new Promise((resolve, reject) => {
    const args = [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      target.host,
      "-p",
      target.port,
      "-U",
      target.user,
    ];
    const proc = spawn("psql", [...args, "-d", target.database, "-c", "\\timing on", "-c", copy], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d) => {
      out += String(d);
    });
    proc.stderr.on("data", (d) => {
      err += String(d);
    });
    proc.once("error", reject);
    proc.once("exit", (code) => {
      const timing = /Time: ([\d.]+) ms/.exec(out);
      if (code === 0 && timing?.[1]) resolve(Number(timing[1]));
      else reject(new Error(`psql exited ${code}: ${(err || out).slice(0, 500)}`));
    });
  });
}
