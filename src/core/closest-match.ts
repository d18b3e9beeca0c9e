/**
 * Edit distance counting a swap of two neighbouring letters as one edit (optimal string
 * alignment), since "hlep" is the commonest kind of typo.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i];
    if (!row) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest candidate within a distance that still reads as a typo, or null. */
export function closestMatch(input: string, candidates: readonly string[]): string | null {
  const typed = input.toLowerCase();
  let best: { name: string; d: number } | null = null;
  for (const c of candidates) {
    const d = c.startsWith(typed) && typed.length >= 2 ? 0 : editDistance(typed, c);
    if (best === null || d < best.d) best = { name: c, d };
  }
  if (best === null) return null;
  return best.d <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : null;
}
