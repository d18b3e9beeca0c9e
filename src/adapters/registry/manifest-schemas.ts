import { z } from "zod";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const SCHEMA1_MEDIA_TYPES = [
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/** Sent on every manifest request: indexes first, so a multi-platform tag answers with its index. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.dockerManifest,
].join(", ");

const digest = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, "not a digest");

const descriptor = z.object({
  mediaType: z.string().optional(),
  digest,
  size: z.number().int().nonnegative(),
});

const platform = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
});

export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptor.extend({ platform: platform.optional() })),
});

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor),
});

export const imageConfigSchema = z.object({
  architecture: z.string().optional(),
  os: z.string().optional(),
  variant: z.string().optional(),
  created: z.string().optional(),
  rootfs: z.object({
    type: z.literal("layers"),
    diff_ids: z.array(digest),
  }),
});

// A token goes into an Authorization header: visible ASCII only.
const bearerToken = z.string().regex(/^[\x21-\x7e]+$/, "not a usable token");

export const tokenAnswerSchema = z.object({
  token: bearerToken.optional(),
  access_token: bearerToken.optional(),
  expires_in: z.number().positive().optional(),
});

export type IndexManifest = z.infer<typeof indexSchema>;
export type ImageManifest = z.infer<typeof imageManifestSchema>;
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** `rootfs.diff_ids.3: not a digest` — what was wrong, without echoing the document. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(document)";
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
