import { describe, expect, it } from "vitest";
import { type CvssCandidate, pickCvss } from "../../../src/core/scan/pick-cvss.js";

const v2 = { version: null, score: 5, vector: "AV:N/AC:L/Au:N/C:P/I:N/A:N" };
const v3 = { version: null, score: 7.5, vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" };
const v3Unprefixed = { version: "3", score: 9.8, vector: "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" };
const v4 = {
  version: null,
  score: 8.7,
  vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
};

describe("pickCvss", () => {
  it.each<[string, CvssCandidate[], number | null]>([
    ["v3 over v2 listed first", [v2, v3], 7.5],
    ["v3 over v4", [v4, v3], 7.5],
    ["v4 over v2", [v2, v4], 8.7],
    ["the first of two v3 (the caller's preferred source)", [v3Unprefixed, v3], 9.8],
    [
      "an unprefixed v2 vector is recognised as v2, ahead of a score of unknown version",
      [{ ...v3, vector: null }, v2],
      5,
    ],
    ["a score outside 0–10 is dropped", [{ version: "3.1", score: 42, vector: null }], null],
    ["nothing", [], null],
  ])("%s", (_name, candidates, score) => {
    expect(pickCvss(candidates).score).toBe(score);
  });
});
