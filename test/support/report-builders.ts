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
        Vulnerabilities: opts.vulns.map((v, i) => {
          const version = v.version ?? "1.0.0";
          return {
            VulnerabilityID: v.id,
            PkgID: `${v.pkg}@${version}`,
            PkgName: v.pkg,
            PkgIdentifier: {
              PURL: `pkg:deb/debian/${v.pkg}@${version}?arch=amd64&distro=debian-12.8`,
              UID: uid(i),
            },
            ...(v.path ? { PkgPath: v.path } : {}),
            InstalledVersion: version,
            ...(v.fixed ? { FixedVersion: v.fixed, Status: "fixed" } : { Status: "affected" }),
            Layer: {
              Digest: "sha256:5555555555555555555555555555555555555555555555555555555555555555",
              DiffID: "sha256:2222222222222222222222222222222222222222222222222222222222222222",
            },
            SeveritySource: "nvd",
            PrimaryURL: `https://avd.aquasec.com/nvd/${v.id.toLowerCase()}`,
            DataSource: {
              ID: "debian",
              Name: "Debian Security Tracker",
              URL: "https://salsa.debian.org/security-tracker-team/security-tracker",
            },
            Title: v.title ?? `${v.pkg}: synthetic issue ${v.id}`,
            Description: description(v, i),
            Severity: v.severity,
            CweIDs: [`CWE-${[787, 79, 20, 125, 416, 190][i % 6]}`],
            VendorSeverity: { debian: (i % 4) + 1, nvd: (i % 4) + 1, redhat: ((i + 1) % 4) + 1 },
            CVSS: {
              nvd: {
                V2Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P",
                V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                V2Score: 7.5,
                V3Score: 9.8,
              },
              redhat: { V3Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", V3Score: 8.1 },
            },
            References: references(v.id, i),
            PublishedDate: "2026-03-14T18:15:00Z",
            LastModifiedDate: "2026-09-02T11:40:00Z",
          };
        }),
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
    matches: opts.vulns.map((v, i) => {
      const version = v.version ?? "1.0.0";
      const cvss = {
        version: "3.1",
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        metrics: { baseScore: 9.8, exploitabilityScore: 3.9, impactScore: 5.9 },
        vendorMetadata: {},
      };
      return {
        vulnerability: {
          id: v.id,
          dataSource: `https://security-tracker.debian.org/tracker/${v.id}`,
          namespace: "debian:distro:debian:12",
          severity: v.severity[0] + v.severity.slice(1).toLowerCase(),
          urls: [`https://security-tracker.debian.org/tracker/${v.id}`],
          description: description(v, i),
          cvss: [],
          fix: v.fixed ? { versions: [v.fixed], state: "fixed" } : { versions: [], state: "not-fixed" },
          advisories: [],
        },
        relatedVulnerabilities: [
          {
            id: v.id,
            dataSource: `https://nvd.nist.gov/vuln/detail/${v.id}`,
            namespace: "nvd:cpe",
            severity: "Critical",
            urls: references(v.id, i),
            description: description(v, i + 1),
            cvss: [{ source: "nvd@nist.gov", type: "Primary", ...cvss }],
          },
        ],
        matchDetails: [
          {
            type: "exact-indirect-match",
            matcher: "dpkg-matcher",
            searchedBy: {
              distro: { type: "debian", version: "12" },
              namespace: "debian:distro:debian:12",
              package: { name: v.pkg, version },
            },
            found: { versionConstraint: `< ${v.fixed ?? "none"} (deb)`, vulnerabilityID: v.id },
          },
        ],
        artifact: {
          id: uid(i),
          name: v.pkg,
          version,
          type: "deb",
          locations: [
            {
              path: v.path ?? "/var/lib/dpkg/status",
              layerID: "sha256:3333333333333333333333333333333333333333333333333333333333333333",
              accessPath: v.path ?? "/var/lib/dpkg/status",
              annotations: { evidence: "primary" },
            },
          ],
          language: "",
          licenses: ["GPL-2.0-or-later"],
          cpes: [`cpe:2.3:a:${v.pkg}:${v.pkg}:${version}:*:*:*:*:*:*:*`],
          purl: `pkg:deb/debian/${v.pkg}@${version}?arch=amd64&distro=debian-12`,
          upstreams: [{ name: v.pkg }],
          metadataType: "DpkgMetadata",
          metadata: { source: v.pkg, sourceVersion: "", installedSize: 1024 + (i % 4096) },
        },
      };
    }),
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

// The prose and links real reports carry with every finding: most of a report's bytes (2.5–4 KB
// per finding in the shared fixtures), though patchpilot keeps little of them.
const sentences = [
  "A flaw was found in the way the library parsed length fields of crafted input records.",
  "A remote attacker could send a specially crafted request to trigger an out-of-bounds write,",
  "leading to a crash of the application or possibly the execution of arbitrary code.",
  "The highest threat from this vulnerability is to data confidentiality and integrity as well as system availability.",
  "This issue affects versions before the fixed release and was reported by an external researcher.",
  "Applications that process untrusted input with the affected functions are at risk.",
];

function description(v: SyntheticVuln, i: number): string {
  const n = 3 + (i % 4);
  const parts = [`${v.pkg} before ${v.fixed ?? "the next release"}:`];
  for (let k = 0; k < n; k++) parts.push(sentences[(i + k) % sentences.length] ?? "");
  return parts.join(" ");
}

function references(id: string, i: number): string[] {
  const all = [
    `https://access.redhat.com/security/cve/${id}`,
    `https://nvd.nist.gov/vuln/detail/${id}`,
    `https://security-tracker.debian.org/tracker/${id}`,
    `https://ubuntu.com/security/${id}`,
    `https://www.cve.org/CVERecord?id=${id}`,
    `https://github.com/advisories?query=${id}`,
    `https://lists.debian.org/debian-lts-announce/2026/09/msg000${String(i % 90).padStart(2, "0")}.html`,
    `https://security.netapp.com/advisory/ntap-2026091${i % 10}-0003/`,
  ];
  return all.slice(0, 5 + (i % 4));
}

function uid(i: number): string {
  return (0x1000_0000_0000 + i * 7919).toString(16).padStart(16, "0");
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
