import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { createToken } from "../../src/services/upload-tokens.js";
import type { FakeView } from "../support/fake-slack.js";
import type { SyntheticVuln } from "../support/report-builders.js";
import { postSigned, slackTestIds, slashCommand, viewSubmission } from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp } from "../support/test-app.js";
import { uploadScan } from "../support/upload-scan.js";

const DAY = 86_400_000;
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  const token = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  const upload = (image: string, digestNumber: number, vulns: SyntheticVuln[]) =>
    uploadScan(t, token, { image, digestNumber, vulns });
  await upload("ghcr.io/acme/payments-api:1.4", 1, [
    { id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" },
    { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" },
  ]);
  await upload("ghcr.io/acme/ledger-worker:2.0", 2, [
    { id: "CVE-2026-5555", pkg: "expat", severity: "CRITICAL", fixed: "2.6.4" },
  ]);
  t.slack.setUsergroupMembers("S0PAYAPPR", ["U0SAM"]);
});
afterAll(async () => {
  await t?.close();
});

type Reply = { text?: string; response_type?: string };

async function patch(text: string, user = { id: "U0SAM", name: "sam" }): Promise<Reply> {
  const res = await postSigned(
    t.baseUrl,
    "/slack/events",
    slashCommand(
      { text, channelId: "C0PAYMENTS", userId: user.id, userName: user.name },
      TEST_SIGNING_SECRET,
    ),
  );
  expect(res.status).toBe(200);
  return res.json as Reply;
}

/** Presses "Accept risk" on a modal the fake Slack recorded, with the date and reason as given. */
async function submit(modal: FakeView, values: { until: string; reason: string }, userId = "U0SAM") {
  const payload = {
    type: "view_submission",
    team: { id: slackTestIds.teamId, domain: slackTestIds.teamDomain },
    user: { id: userId, username: "sam", name: "sam", team_id: slackTestIds.teamId },
    api_app_id: slackTestIds.appId,
    token: slackTestIds.verificationToken,
    trigger_id: "1234567890123.12345678901.abcdef",
    view: {
      ...modal.view,
      id: modal.id,
      team_id: slackTestIds.teamId,
      hash: modal.hash,
      state: {
        values: {
          until: { until: { type: "datepicker", selected_date: values.until } },
          reason: { reason: { type: "plain_text_input", value: values.reason } },
        },
      },
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  const res = await postSigned(t.baseUrl, "/slack/events", viewSubmission(payload, TEST_SIGNING_SECRET));
  expect(res.status).toBe(200);
  return res.json as { response_action?: string; errors?: Record<string, string> } | undefined;
}

const acceptances = async (vulnerabilityId: string) =>
  (
    await t.owner.pool.query<{ reason: string; accepted_by: string; expires_at: Date }>(
      "SELECT reason, accepted_by, expires_at FROM risk_acceptances WHERE vulnerability_id = $1",
      [vulnerabilityId],
    )
  ).rows;

const lastModal = (): FakeView => {
  const modal = t.slack
    .views()
    .filter((v) => v.type === "modal")
    .at(-1);
  if (!modal) throw new Error("no modal was opened");
  return modal;
};

describe("/patch accept", () => {
  it("lets an approver accept after confirming in the dialog, audited and confirmed only to them", async () => {
    const until = day(20);
    const r = await patch(
      `accept CVE-2026-1111 payments-api --until ${until} --reason "not reachable: no TLS server"`,
    );
    expect(r.response_type).toBe("ephemeral");
    expect(r.text).toContain("Confirm in the dialog");

    const modal = lastModal();
    expect(modal.view.callback_id).toBe("accept_risk");
    expect(JSON.stringify(modal.view.blocks)).toContain("CVE-2026-1111");
    expect(JSON.stringify(modal.view.blocks)).toContain("at most 30 days");
    expect(checkBlockKitLimits(modal.view, "modal")).toEqual([]);
    expect(await acceptances("CVE-2026-1111")).toEqual([]);

    const answer = await submit(modal, { until, reason: "not reachable: no TLS server" });
    expect(answer?.response_action).toBeUndefined();

    const rows = await acceptances("CVE-2026-1111");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.accepted_by).toBe("U0SAM");
    expect(rows[0]?.expires_at.toISOString().slice(0, 10)).toBe(until);
    const audit = await t.owner.pool.query(
      "SELECT 1 FROM audit_events WHERE action = 'risk.accepted' AND actor_id = 'U0SAM'",
    );
    expect(audit.rowCount).toBe(1);

    await waitFor(() => t.slack.callsTo("chat.postEphemeral").length > 0, 5000, "the confirmation");
    const confirmation = t.slack.callsTo("chat.postEphemeral")[0]?.args;
    expect(confirmation?.channel).toBe("C0PAYMENTS");
    expect(confirmation?.user).toBe("U0SAM");
    expect(String(confirmation?.text)).toContain(`CVE-2026-1111 in payments-api accepted until ${until}`);
  });

  it("tells a non-approver who may accept, even in the team's channel, and opens no dialog", async () => {
    const before = t.slack.views().length;
    const r = await patch(
      `accept CVE-2026-2222 payments-api --until ${day(20)} --reason "not reachable at all"`,
      {
        id: "U0MARIA",
        name: "maria",
      },
    );
    expect(r.response_type).toBe("ephemeral");
    expect(r.text).toBe(
      "Only approvers of team payments (<!subteam^S0PAYAPPR>) may accept risks for payments-api.",
    );
    expect(t.slack.views()).toHaveLength(before);
  });

  it("keeps the dialog open with the policy's limit when a critical is accepted for too long", async () => {
    await patch(`accept CVE-2026-5555 ledger-worker --until ${day(20)} --reason "only parses our own XML"`);
    const answer = await submit(lastModal(), { until: day(60), reason: "only parses our own XML" });
    expect(answer?.response_action).toBe("errors");
    expect(answer?.errors?.until).toContain("at most 30 days");
    expect(await acceptances("CVE-2026-5555")).toEqual([]);
  });

  it("says exactly what to type when arguments are missing or the date is not a date", async () => {
    const missing = await patch("accept CVE-2026-2222 payments-api");
    expect(missing.response_type).toBe("ephemeral");
    expect(missing.text).toContain("`/patch accept CVE-2026-2222 payments-api --until ");
    expect(missing.text).toContain('--reason "');

    const badDate = await patch(
      'accept CVE-2026-2222 payments-api --until 2026-02-30 --reason "not reachable"',
    );
    expect(badDate.text).toContain("`2026-02-30` is not a date");
    expect(badDate.text).not.toContain("--until 2026-02-30");

    const unknown = await patch(
      `accept CVE-2026-2222 paymnts-api --until ${day(20)} --reason "not reachable"`,
    );
    expect(unknown.text).toContain("Did you mean payments-api?");
  });

  it("takes an unquoted reason whole instead of refusing it", async () => {
    const r = await patch(
      `accept CVE-2026-2222 payments-api --until ${day(20)} --reason not reachable from outside`,
    );
    expect(r.text).toContain("Confirm in the dialog");
    expect(JSON.stringify(lastModal().view.blocks)).toContain('"initial_value":"not reachable from outside"');
  });
});
