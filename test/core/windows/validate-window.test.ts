import { describe, expect, it } from "vitest";
import type { MaintenanceWindow } from "../../../src/core/windows/maintenance-window.js";
import { validateWindow } from "../../../src/core/windows/validate-window.js";

const ok: MaintenanceWindow = { cron: "0 10 * * 2", duration: "6h", timezone: "Europe/Berlin" };

describe("validateWindow", () => {
  it.each<MaintenanceWindow>([
    ok,
    { cron: "0 10 * * 2#2", duration: "6h", timezone: "Europe/Berlin" },
    { cron: "30 22 * * FRI", duration: "1d8h", timezone: "America/New_York" },
    { cron: "0 3 L * *", duration: "2h", timezone: "UTC" },
    { cron: "0 9 * * MON-THU", duration: "90m", timezone: "Asia/Kolkata" },
    { cron: "  0 10 * * 2  ", duration: "6h", timezone: "Australia/Lord_Howe" },
  ])("accepts %j", (w) => {
    expect(validateWindow(w)).toEqual([]);
  });

  it.each<[Partial<MaintenanceWindow>, string]>([
    [
      { cron: "0 10 * *" },
      'expected 5 cron fields (minute hour day-of-month month day-of-week), got 4 in "0 10 * *"',
    ],
    [{ cron: "" }, 'expected 5 cron fields (minute hour day-of-month month day-of-week), got 0 in ""'],
    [
      { cron: "0 0 10 * * 2" },
      'expected 5 cron fields (minute hour day-of-month month day-of-week), got 6 in "0 0 10 * * 2"',
    ],
    [
      { cron: "@weekly" },
      'expected 5 cron fields (minute hour day-of-month month day-of-week), got 1 in "@weekly"',
    ],
    [
      { cron: "61 10 * * 2" },
      'invalid cron expression "61 10 * * 2": Constraint error, got value 61 expected range 0-59',
    ],
    [
      { cron: "0 10 * * 2#6" },
      'invalid cron expression "0 10 * * 2#6": Constraint error, invalid dayOfWeek occurrence number (#)',
    ],
    [
      { cron: "0 10 31 2 *" },
      'invalid cron expression "0 10 31 2 *": Invalid explicit day of month definition',
    ],
    [{ cron: "H 10 * * 2" }, '"H" (a random time) is not allowed in a window\'s cron: "H 10 * * 2"'],
    [
      { cron: "0 H(9-11) * * 2" },
      '"H" (a random time) is not allowed in a window\'s cron: "0 H(9-11) * * 2"',
    ],
    [{ duration: "6 hours" }, 'expected a duration like 15m, 72h or 7d, got "6 hours"'],
    [{ duration: "0h" }, 'a duration must be longer than zero, got "0h"'],
    [
      { timezone: "Europe/Berlyn" },
      'unknown time zone "Europe/Berlyn" (expected an IANA name such as Europe/Berlin)',
    ],
    [{ timezone: "" }, 'unknown time zone "" (expected an IANA name such as Europe/Berlin)'],
  ])("refuses %j: %s", (change, problem) => {
    expect(validateWindow({ ...ok, ...change })).toEqual([problem]);
  });

  it("reports every problem at once", () => {
    expect(validateWindow({ cron: "0 25 * * *", duration: "soon", timezone: "Mars/Olympus" })).toHaveLength(
      3,
    );
  });
});
