import { createHash } from "node:crypto";

/**
 * Scan reports in the real Trivy (SchemaVersion 2) and Grype JSON shapes, written by us for
 * scenario tests and benchmarks. Field names and nesting follow what those scanners emit.
 */
export type SyntheticVuln = {
  id: string;
  pkg: string;
  version?: string;
  fixed?: string;
  severity: "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "UNKNOWN";
  path?: string;
  title?: string;
};

export function trivyReport(opts: {
  image: string;
  digest?: string;
  vulns: SyntheticVuln[];
  createdAt?: string;
}): Record<string, unknown> {
  return {
    SchemaVersion: 2,
    CreatedAt: opts.createdAt ?? "2026-11-20T10:00:00Z",
    ArtifactName: opts.image,
    ArtifactType: "container_image",
    Metadata: {
      OS: { Family: "debian", Name: "12.8" },
      ImageID: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
      RepoTags: [opts.image],
      RepoDigests: opts.digest ? [`${opts.image.split(":")[0]}@${opts.digest}`] : [],
    },
    Results: [
      {
        Target: `${opts.image} (debian 12.8)`,
        Class: "os-pkgs",
        Type: "debian",
        Vulnerabilities: opts.vulns.map((v) => ({
          VulnerabilityID: v.id,
          PkgName: v.pkg,
          ...(v.path ? { PkgPath: v.path } : {}),
          InstalledVersion: v.version ?? "1.0.0",
          ...(v.fixed ? { FixedVersion: v.fixed, Status: "fixed" } : { Status: "affected" }),
          Layer: { DiffID: "sha256:2222222222222222222222222222222222222222222222222222222222222222" },
          SeveritySource: "nvd",
          PrimaryURL: `https://avd.aquasec.com/nvd/${v.id.toLowerCase()}`,
          Title: v.title ?? `${v.pkg}: synthetic issue ${v.id}`,
          Severity: v.severity,
          CVSS: { nvd: { V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", V3Score: 9.8 } },
        })),
      },
    ],
  };
}

export function grypeReport(opts: {
  image: string;
  digest?: string;
  vulns: SyntheticVuln[];
}): Record<string, unknown> {
  return {
    matches: opts.vulns.map((v) => ({
      vulnerability: {
        id: v.id,
        dataSource: `https://nvd.nist.gov/vuln/detail/${v.id}`,
        namespace: "debian:distro:debian:12",
        severity: v.severity[0] + v.severity.slice(1).toLowerCase(),
        urls: [`https://security-tracker.debian.org/tracker/${v.id}`],
        cvss: [],
        fix: v.fixed ? { versions: [v.fixed], state: "fixed" } : { versions: [], state: "not-fixed" },
        advisories: [],
      },
      relatedVulnerabilities: [],
      matchDetails: [],
      artifact: {
        id: `${v.pkg}-id`,
        name: v.pkg,
        version: v.version ?? "1.0.0",
        type: "deb",
        locations: [
          {
            path: v.path ?? "/var/lib/dpkg/status",
            layerID: "sha256:3333333333333333333333333333333333333333333333333333333333333333",
          },
        ],
        language: "",
        licenses: [],
        cpes: [],
        purl: `pkg:deb/debian/${v.pkg}@${v.version ?? "1.0.0"}?arch=amd64`,
        upstreams: [],
      },
    })),
    source: {
      type: "image",
      target: {
        userInput: opts.image,
        imageID: "sha256:4444444444444444444444444444444444444444444444444444444444444444",
        manifestDigest: opts.digest ?? "",
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        tags: [opts.image],
        repoDigests: opts.digest ? [`${opts.image.split(":")[0]}@${opts.digest}`] : [],
      },
    },
    distro: { name: "debian", version: "12" },
    descriptor: { name: "grype", version: "0.86.1" },
  };
}

/** A stable digest per number that looks like a real one (distinct from its first characters). */
export function digestOf(n: number): string {
  return `sha256:${createHash("sha256").update(`patchpilot-test-image-${n}`).digest("hex")}`;
}

/** n vulnerabilities with a realistic severity mix, numbered from `start`. */
export function syntheticVulns(n: number, start = 0): SyntheticVuln[] {
  const mix: SyntheticVuln["severity"][] = [
    "CRITICAL",
    "HIGH",
    "HIGH",
    "MEDIUM",
    "MEDIUM",
    "MEDIUM",
    "LOW",
    "LOW",
    "LOW",
    "UNKNOWN",
  ];
  return Array.from({ length: n }, (_, i) => {
    const k = start + i;
    return {
      id: `CVE-2026-${String(10000 + k)}`,
      pkg: `pkg${k % 400}`,
      version: `1.${k % 7}.0`,
      ...(k % 3 === 0 ? {} : { fixed: `1.${k % 7}.1` }),
      severity: mix[k % mix.length] ?? "LOW",
    };
  });
}
