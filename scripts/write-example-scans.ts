// Writes the sample scans in examples/scans/ that `npm run demo` ingests. They are ours, in the
// real Trivy and Grype shapes (test/support/report-builders.ts); rerun after changing the builders.
//
// payments-api's scans list the image's layers (Metadata.DiffIDs) as Trivy does: two of the base
// image node:22-bookworm-slim (Debian's root filesystem, then Node.js), then two of the app
// (node_modules, then the built code). The Debian package findings come from the first base
// layer and the npm ones from node_modules, so patchpilot can tell what a base bump would fix.
// The demo's registry serves the base with exactly those first two layers.
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { digestOf, grypeReport, type SyntheticVuln, trivyReport } from "../test/support/report-builders.js";

const out = (name: string, doc: unknown) =>
  writeFile(new URL(`../examples/scans/${name}`, import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);

/** A layer's diff id: the sha256 of its uncompressed tar, here of a name standing for it. */
const layer = (what: string) => `sha256:${createHash("sha256").update(`demo layer: ${what}`).digest("hex")}`;
const NODE_BASE = [layer("debian bookworm-slim rootfs 2026-10-06"), layer("node 22.20.0 2026-10-07")];

type Trivy = {
  Metadata: Record<string, unknown>;
  Results: Array<{ Vulnerabilities: Array<Record<string, unknown>> } & Record<string, unknown>>;
};

/**
 * A Trivy image report with its layers: the Debian findings in the base's root filesystem layer,
 * the npm findings (a lang-pkgs result, as Trivy writes for node_modules) in the app's first layer.
 */
function layeredTrivyReport(opts: {
  image: string;
  digest: string;
  createdAt: string;
  appLayers: [string, string];
  os: SyntheticVuln[];
  npm: SyntheticVuln[];
}): Trivy {
  const doc = trivyReport({ ...opts, vulns: opts.os }) as Trivy;
  const npm = (trivyReport({ ...opts, vulns: opts.npm }) as Trivy).Results[0];
  doc.Metadata.DiffIDs = [...NODE_BASE, ...opts.appLayers];
  for (const v of doc.Results[0]?.Vulnerabilities ?? []) v.Layer = { DiffID: NODE_BASE[0] };
  if (npm) {
    for (const v of npm.Vulnerabilities) {
      v.Layer = { DiffID: opts.appLayers[0] };
      v.PkgPath = `app/node_modules/${String(v.PkgName)}/package.json`;
      v.SeveritySource = "ghsa";
    }
    doc.Results.push({ ...npm, Target: "Node.js", Class: "lang-pkgs", Type: "node-pkg" });
  }
  return doc;
}

const NPM_FINDINGS: SyntheticVuln[] = [
  {
    id: "CVE-2026-6120",
    pkg: "path-to-regexp",
    version: "0.1.7",
    fixed: "0.1.12",
    title: "path-to-regexp: backtracking regular expression in route parameters (ReDoS)",
    severity: "HIGH",
  },
  {
    id: "CVE-2026-6233",
    pkg: "cookie",
    version: "0.6.0",
    fixed: "0.7.0",
    title: "cookie: cookie name, path and domain accept out-of-bounds characters",
    severity: "LOW",
  },
];

await out(
  "payments-api-1.41.trivy.json",
  layeredTrivyReport({
    image: "ghcr.io/acme/payments-api:1.41",
    digest: digestOf(0x4f1c01),
    createdAt: "2026-10-14T09:12:00Z",
    appLayers: [layer("payments-api 1.41 node_modules"), layer("payments-api 1.41 dist")],
    npm: NPM_FINDINGS,
    os: [
      {
        id: "CVE-2026-1234",
        pkg: "openssl",
        version: "3.0.13-1~deb12u1",
        fixed: "3.0.15-1~deb12u1",
        title: "openssl: heap overflow in X.509 name constraint checks",
        severity: "CRITICAL",
      },
      {
        id: "CVE-2026-2301",
        pkg: "libexpat1",
        version: "2.5.0-1",
        fixed: "2.5.0-1+deb12u1",
        title: "expat: billion laughs variant via nested entities",
        severity: "HIGH",
      },
      {
        id: "CVE-2025-9999",
        pkg: "libcurl4",
        version: "7.88.1-10",
        title: "curl: cookie injection with a crafted Set-Cookie header",
        severity: "HIGH",
      },
      {
        id: "CVE-2026-3105",
        pkg: "zlib1g",
        version: "1:1.2.13",
        fixed: "1:1.2.13.dfsg-1+deb12u1",
        title: "zlib: out-of-bounds read in inflateGetHeader",
        severity: "MEDIUM",
      },
      {
        id: "CVE-2026-0420",
        pkg: "tar",
        version: "1.34",
        title: "tar: stack exhaustion on deeply nested archives",
        severity: "LOW",
      },
    ],
  }),
);
await out(
  "payments-api-1.42.trivy.json",
  layeredTrivyReport({
    image: "ghcr.io/acme/payments-api:1.42",
    digest: digestOf(0x4f1c02),
    createdAt: "2026-11-24T07:30:00Z",
    appLayers: [layer("payments-api 1.42 node_modules"), layer("payments-api 1.42 dist")],
    npm: NPM_FINDINGS,
    os: [
      {
        id: "CVE-2026-1234",
        pkg: "openssl",
        version: "3.0.13-1~deb12u1",
        fixed: "3.0.15-1~deb12u1",
        title: "openssl: heap overflow in X.509 name constraint checks",
        severity: "CRITICAL",
      },
      {
        id: "CVE-2025-9999",
        pkg: "libcurl4",
        version: "7.88.1-10",
        title: "curl: cookie injection with a crafted Set-Cookie header",
        severity: "HIGH",
      },
      {
        id: "CVE-2026-3105",
        pkg: "zlib1g",
        version: "1:1.2.13",
        fixed: "1:1.2.13.dfsg-1+deb12u1",
        title: "zlib: out-of-bounds read in inflateGetHeader",
        severity: "MEDIUM",
      },
      {
        id: "CVE-2026-4242",
        pkg: "libxml2",
        version: "2.9.14",
        fixed: "2.9.14+dfsg-1.3~deb12u2",
        title: "libxml2: use-after-free in xmlSchemaValidate",
        severity: "CRITICAL",
      },
      {
        id: "CVE-2026-0420",
        pkg: "tar",
        version: "1.34",
        title: "tar: stack exhaustion on deeply nested archives",
        severity: "LOW",
      },
    ],
  }),
);
await out(
  "ledger-worker-2.7.grype.json",
  grypeReport({
    image: "ghcr.io/acme/ledger-worker:2.7",
    digest: digestOf(0x1ed9e7),
    vulns: [
      { id: "CVE-2026-5150", pkg: "python3.12", version: "3.12.7-1", fixed: "3.12.8-1", severity: "HIGH" },
      { id: "CVE-2026-5151", pkg: "libsqlite3-0", version: "3.40.1-2", severity: "MEDIUM" },
      { id: "CVE-2026-5152", pkg: "ncurses-base", version: "6.4-4", severity: "LOW" },
    ],
  }),
);
await out(
  "search-api-3.0.trivy.json",
  trivyReport({
    image: "ghcr.io/acme/search-api:3.0",
    digest: digestOf(0x5ea3c0),
    createdAt: "2026-11-23T18:00:00Z",
    vulns: [
      {
        id: "CVE-2026-7001",
        pkg: "libjackson",
        version: "2.15.2",
        fixed: "2.15.4",
        title: "jackson-databind: deserialization gadget in polymorphic typing",
        severity: "HIGH",
      },
      {
        id: "CVE-2026-7002",
        pkg: "libnetty",
        version: "4.1.100",
        fixed: "4.1.115",
        title: "netty: HTTP/2 rapid reset denial of service",
        severity: "MEDIUM",
      },
    ],
  }),
);
