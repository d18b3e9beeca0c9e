import { describe, expect, it } from "vitest";
import { configImage, configTeam } from "../../src/config/config-lookup.js";
import { configFileSchema } from "../../src/config/file-schema.js";

const fleet = (n: number) =>
  configFileSchema.parse({
    version: 1,
    teams: [
      { id: "payments", channel: "C0PAYMENTS" },
      { id: "search", channel: "C0SEARCH" },
    ],
    images: Array.from({ length: n }, (_, i) => ({
      id: `svc-${i}`,
      repository: `ghcr.io/acme/svc-${i}`,
      team: i % 2 === 0 ? "payments" : "search",
    })),
  });

describe("config lookups by id", () => {
  it("finds a fleet's image and team by id, and answers null for an unknown or absent id", () => {
    const config = fleet(5_000);
    expect(configImage(config, "svc-4321")?.repository).toBe("ghcr.io/acme/svc-4321");
    expect(configImage(config, "svc-4321")?.team).toBe("search");
    expect(configTeam(config, "payments")?.channel).toBe("C0PAYMENTS");
    expect(configImage(config, "svc-5000")).toBeNull();
    expect(configTeam(config, "ops")).toBeNull();
    expect(configImage(config, null)).toBeNull();
    expect(configTeam(config, undefined)).toBeNull();
  });

  it("sees an image added to the list after a first lookup", () => {
    const config = fleet(3);
    expect(configImage(config, "late")).toBeNull();
    const [first] = config.images;
    if (!first) throw new Error("no image");
    config.images.push({ ...first, id: "late", repository: "ghcr.io/acme/late" });
    expect(configImage(config, "late")?.repository).toBe("ghcr.io/acme/late");
  });
});
