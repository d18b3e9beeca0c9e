export type Platform = { os: string; architecture: string; variant: string };

const PLATFORM_TEXT = /^[a-z0-9][a-z0-9_.-]*\/[a-z0-9][a-z0-9_.-]*(?:\/[a-z0-9][a-z0-9_.-]*)?$/i;
const ARCH_ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64" };

/** `linux/arm64/v8` → its parts; null when the text is not `os/arch[/variant]`. */
export function parsePlatform(text: string): Platform | null {
  if (!PLATFORM_TEXT.test(text)) return null;
  const [os = "", architecture = "", variant = ""] = text.split("/");
  return { os, architecture, variant };
}

/**
 * The same normalisation containerd applies before comparing platforms: `aarch64` is `arm64`,
 * `arm64` without a variant is `arm64/v8`, `arm` without one is `arm/v7`.
 */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant.toLowerCase();
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (architecture === "arm64" && variant === "") variant = "v8";
  if (architecture === "arm" && variant === "") variant = "v7";
  if (architecture === "amd64" && variant === "v1") variant = "";
  return { os, architecture, variant };
}

export function samePlatform(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && x.variant === y.variant;
}

export function formatPlatform(p: Platform): string {
  return p.variant === "" ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}
