import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  attributeFindings,
  builtOn,
  driftState,
  findBuiltOn,
  fixedByBump,
  type LayeredFinding,
} from "../../../src/core/freshness/base-image-drift.js";

const L = (n: number) => `sha256:${String(n).padStart(64, "0")}`;
const version = (layers: number[], day: number) => ({
  digest: `sha256:${"v".repeat(3)}${layers.join("")}`,
  diffIds: layers.map(L),
  firstSeenAt: new Date(Date.UTC(2026, 10, day)),
  builtAt: null,
});
const finding = (
  id: string,
  layer: number | null,
  severity: LayeredFinding["severity"] = "high",
): LayeredFinding => ({
  vulnerabilityId: id,
  packageName: `pkg-${id}`,
  severity,
  layerDiffId: layer === null ? null : L(layer),
});

describe("builtOn", () => {
  it.each([
    [[1, 2, 3, 4], [1, 2], true],
    [[1, 2, 3, 4], [1, 2, 3, 4], true],
    [[1, 2], [1, 2, 3], false],
    [[1, 2, 3], [2, 3], false],
    [[1, 2, 3], [], false],
    [[], [1], false],
  ])("image %j on base %j → %s", (image, base, expected) => {
    expect(builtOn(image.map(L), base.map(L))).toBe(expected);
  });

  it("an image built on a base plus its own layers is always built on that base, and on no base with a changed layer", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 51, max: 99 }), { maxLength: 8 }),
        fc.nat(),
        (base, app, at) => {
          const image = [...base, ...app].map(L);
          expect(builtOn(image, base.map(L))).toBe(true);
          const changed = [...base];
          const i = at % changed.length;
          changed[i] = 1000 + (changed[i] ?? 0);
          expect(builtOn(image, changed.map(L))).toBe(false);
        },
      ),
    );
  });
});

describe("findBuiltOn and driftState", () => {
  const v1 = version([1, 2], 1);
  const v2 = version([1, 5], 10);
  it("finds the release whose layers the image starts with", () => {
    expect(findBuiltOn([1, 2, 7].map(L), [v1, v2])).toBe(v1);
    expect(findBuiltOn([1, 5, 7].map(L), [v1, v2])).toBe(v2);
    expect(findBuiltOn([9, 7].map(L), [v1, v2])).toBeNull();
  });
  it("prefers the release with more matching layers", () => {
    const longer = version([1, 2, 3], 2);
    expect(findBuiltOn([1, 2, 3, 7].map(L), [v1, longer])).toBe(longer);
  });
  it("is current on the tag's release, behind on another, unknown without layers", () => {
    expect(driftState([1, 2, 7].map(L), v1)).toBe("current");
    expect(driftState([1, 2, 7].map(L), v2)).toBe("behind");
    expect(driftState([], v2)).toBe("unknown");
  });
});

describe("attributeFindings", () => {
  it("splits findings by the layer they come from", () => {
    const a = attributeFindings(
      [finding("A", 1, "critical"), finding("B", 2), finding("C", 7), finding("D", null)],
      [1, 2].map(L),
    );
    expect(a.base).toMatchObject({ critical: 1, high: 1 });
    expect(a.baseFindings.map((f) => f.vulnerabilityId)).toEqual(["A", "B"]);
    expect(a.app).toBe(1);
    expect(a.unattributed).toBe(1);
  });
  it("attributes nothing when no base layers are known", () => {
    const a = attributeFindings([finding("A", 1), finding("B", 7)], []);
    expect(a.unattributed).toBe(2);
    expect(a.app).toBe(0);
  });
  it("every finding is counted exactly once", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 5 }),
        (layers, base) => {
          const a = attributeFindings(
            layers.map((l, i) => finding(`F${i}`, l)),
            base.map(L),
          );
          const baseTotal = Object.values(a.base).reduce((x, y) => x + y, 0);
          expect(baseTotal + a.app + a.unattributed).toBe(layers.length);
        },
      ),
    );
  });
});

describe("fixedByBump", () => {
  it("counts the base's findings the new base no longer has, once per vulnerability and package", () => {
    const base = [finding("A", 1, "critical"), finding("A", 1, "critical"), finding("B", 2, "high")];
    expect(fixedByBump(base, [{ vulnerabilityId: "B", packageName: "pkg-B" }])).toMatchObject({
      critical: 1,
      high: 0,
    });
    expect(fixedByBump(base, [])).toMatchObject({ critical: 1, high: 1 });
  });
});
