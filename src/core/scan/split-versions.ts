/**
 * Fixed versions written as one string: Trivy joins several with ", " ("6.0.3.1, 5.2.4.3") when
 * a fix was backported to more than one release line.
 */
export function splitVersions(text: string | null): string[] {
  if (text === null) return [];
  return text
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}
