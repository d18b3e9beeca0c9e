import type {
  ActionsBlock,
  Button,
  ConfirmationDialog,
  ContextBlock,
  HeaderBlock,
  InputBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from "@slack/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assertWithinBlockKitLimits,
  BLOCK_KIT_LIMITS,
  BlockKitLimitError,
  type BlockKitPayload,
  type BlockKitRule,
  type BlockKitSurface,
  blockKitErrorCode,
  checkBlockKitLimits,
} from "../../src/render/block-kit-limits.js";

const x = (n: number): string => "x".repeat(n);
const plain = (text: string): PlainTextElement => ({ type: "plain_text", text });
const mrkdwn = (text: string): MrkdwnElement => ({ type: "mrkdwn", text });
const button = (extra: Partial<Button> = {}): Button => ({
  type: "button",
  text: plain("Approve"),
  action_id: "approve",
  ...extra,
});
const confirm = (extra: Partial<ConfirmationDialog> = {}): ConfirmationDialog => ({
  title: plain("Sure?"),
  text: plain("This rolls out to prod."),
  confirm: plain("Roll out"),
  deny: plain("Cancel"),
  ...extra,
});
const dividers = (n: number): KnownBlock[] => Array.from({ length: n }, () => ({ type: "divider" }));
const modal = (extra: BlockKitPayload = {}): BlockKitPayload => ({
  title: plain("Approve"),
  blocks: [],
  ...extra,
});

// A rich_text block is not measured field by field, so its size isolates the whole-payload JSON limit.
function blocksOfJsonLength(n: number): KnownBlock[] {
  const block = (text: string): KnownBlock => ({
    type: "rich_text",
    elements: [{ type: "rich_text_section", elements: [{ type: "text", text }] }],
  });
  const overhead = JSON.stringify([block("")]).length;
  return [block(x(n - overhead))];
}

type LimitCase = {
  rule: BlockKitRule;
  path: string;
  surface: BlockKitSurface;
  build: (size: number) => BlockKitPayload;
};

const cases: LimitCase[] = [
  { rule: "text_length", path: "text", surface: "message", build: (n) => ({ text: x(n) }) },
  {
    rule: "blocks_count_message",
    path: "blocks",
    surface: "message",
    build: (n) => ({ blocks: dividers(n) }),
  },
  {
    rule: "blocks_count_view",
    path: "blocks",
    surface: "modal",
    build: (n) => modal({ blocks: dividers(n) }),
  },
  { rule: "blocks_count_view", path: "blocks", surface: "home", build: (n) => ({ blocks: dividers(n) }) },
  {
    rule: "blocks_json_length",
    path: "blocks",
    surface: "message",
    build: (n) => ({ blocks: blocksOfJsonLength(n) }),
  },
  {
    rule: "block_id_length",
    path: "blocks[1].block_id",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "divider" }, { type: "divider", block_id: x(n) }] }),
  },
  {
    rule: "section_text_length",
    path: "blocks[0].text.text",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "section", text: mrkdwn(x(n)) } satisfies SectionBlock] }),
  },
  {
    rule: "section_fields_count",
    path: "blocks[0].fields",
    surface: "message",
    build: (n) => ({
      blocks: [
        { type: "section", fields: Array.from({ length: n }, () => mrkdwn("*CVE*")) } satisfies SectionBlock,
      ],
    }),
  },
  {
    rule: "section_field_length",
    path: "blocks[0].fields[1].text",
    surface: "message",
    build: (n) => ({
      blocks: [{ type: "section", fields: [mrkdwn("a"), plain(x(n))] } satisfies SectionBlock],
    }),
  },
  {
    rule: "header_text_length",
    path: "blocks[0].text.text",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "header", text: plain(x(n)) } satisfies HeaderBlock] }),
  },
  {
    rule: "context_elements_count",
    path: "blocks[0].elements",
    surface: "message",
    build: (n) => ({
      blocks: [
        { type: "context", elements: Array.from({ length: n }, () => mrkdwn("sla")) } satisfies ContextBlock,
      ],
    }),
  },
  {
    rule: "context_text_length",
    path: "blocks[0].elements[0].text",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "context", elements: [mrkdwn(x(n))] } satisfies ContextBlock] }),
  },
  {
    rule: "actions_elements_count",
    path: "blocks[0].elements",
    surface: "message",
    build: (n) => ({
      blocks: [
        {
          type: "actions",
          elements: Array.from({ length: n }, (_, i) => button({ action_id: `a${i}` })),
        } satisfies ActionsBlock,
      ],
    }),
  },
  {
    rule: "button_text_length",
    path: "blocks[0].elements[0].text.text",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "actions", elements: [button({ text: plain(x(n)) })] }] }),
  },
  {
    rule: "button_value_length",
    path: "blocks[0].elements[0].value",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "actions", elements: [button({ value: x(n) })] }] }),
  },
  {
    rule: "button_url_length",
    path: "blocks[0].elements[0].url",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "actions", elements: [button({ url: `https://${x(n - 8)}` })] }] }),
  },
  {
    rule: "action_id_length",
    path: "blocks[0].elements[1].action_id",
    surface: "message",
    build: (n) => ({ blocks: [{ type: "actions", elements: [button(), button({ action_id: x(n) })] }] }),
  },
  {
    rule: "button_value_length",
    path: "blocks[0].accessory.value",
    surface: "message",
    build: (n) => ({
      blocks: [
        { type: "section", text: mrkdwn("hi"), accessory: button({ value: x(n) }) } satisfies SectionBlock,
      ],
    }),
  },
  {
    rule: "confirm_title_length",
    path: "blocks[0].elements[0].confirm.title.text",
    surface: "message",
    build: (n) => ({
      blocks: [{ type: "actions", elements: [button({ confirm: confirm({ title: plain(x(n)) }) })] }],
    }),
  },
  {
    rule: "confirm_text_length",
    path: "blocks[0].elements[0].confirm.text.text",
    surface: "message",
    build: (n) => ({
      blocks: [{ type: "actions", elements: [button({ confirm: confirm({ text: plain(x(n)) }) })] }],
    }),
  },
  {
    rule: "confirm_button_length",
    path: "blocks[0].elements[0].confirm.deny.text",
    surface: "message",
    build: (n) => ({
      blocks: [{ type: "actions", elements: [button({ confirm: confirm({ deny: plain(x(n)) }) })] }],
    }),
  },
  {
    rule: "placeholder_length",
    path: "blocks[0].elements[0].placeholder.text",
    surface: "message",
    build: (n) => ({
      blocks: [
        {
          type: "actions",
          elements: [{ type: "static_select", action_id: "env", placeholder: plain(x(n)), options: [] }],
        },
      ],
    }),
  },
  {
    rule: "input_label_length",
    path: "blocks[0].label.text",
    surface: "modal",
    build: (n) =>
      modal({
        blocks: [
          {
            type: "input",
            label: plain(x(n)),
            element: { type: "plain_text_input", action_id: "reason" },
          } satisfies InputBlock,
        ],
      }),
  },
  {
    rule: "input_hint_length",
    path: "blocks[0].hint.text",
    surface: "modal",
    build: (n) =>
      modal({
        blocks: [
          {
            type: "input",
            label: plain("Reason"),
            hint: plain(x(n)),
            element: { type: "plain_text_input", action_id: "reason" },
          } satisfies InputBlock,
        ],
      }),
  },
  {
    rule: "action_id_length",
    path: "blocks[0].element.action_id",
    surface: "modal",
    build: (n) =>
      modal({
        blocks: [
          {
            type: "input",
            label: plain("Reason"),
            element: { type: "plain_text_input", action_id: x(n) },
          } satisfies InputBlock,
        ],
      }),
  },
  {
    rule: "view_title_length",
    path: "title.text",
    surface: "modal",
    build: (n) => modal({ title: plain(x(n)) }),
  },
  {
    rule: "view_submit_length",
    path: "submit.text",
    surface: "modal",
    build: (n) => modal({ submit: plain(x(n)) }),
  },
  {
    rule: "view_close_length",
    path: "close.text",
    surface: "modal",
    build: (n) => modal({ close: plain(x(n)) }),
  },
  {
    rule: "view_callback_id_length",
    path: "callback_id",
    surface: "home",
    build: (n) => ({ blocks: [], callback_id: x(n) }),
  },
  {
    rule: "view_private_metadata_length",
    path: "private_metadata",
    surface: "modal",
    build: (n) => modal({ private_metadata: x(n) }),
  },
];

describe("checkBlockKitLimits", () => {
  it.each(cases)(
    "$rule at $path: the limit passes, one more fails ($surface)",
    ({ rule, path, surface, build }) => {
      const limit = BLOCK_KIT_LIMITS[rule];
      expect(checkBlockKitLimits(build(limit), surface)).toEqual([]);
      expect(checkBlockKitLimits(build(limit + 1), surface)).toEqual([
        { path, rule, limit, actual: limit + 1 },
      ]);
    },
  );

  it("uses the documented numbers", () => {
    expect(BLOCK_KIT_LIMITS).toMatchObject({
      text_length: 40_000,
      blocks_count_message: 50,
      blocks_count_view: 100,
      section_text_length: 3000,
      section_fields_count: 10,
      section_field_length: 2000,
      header_text_length: 150,
      context_elements_count: 10,
      actions_elements_count: 25,
      button_text_length: 75,
      button_value_length: 2000,
      action_id_length: 255,
      block_id_length: 255,
      button_url_length: 3000,
      confirm_title_length: 100,
      confirm_text_length: 300,
      view_title_length: 24,
    });
  });

  it("reports every violation in one pass, in document order", () => {
    const violations = checkBlockKitLimits(
      {
        text: x(40_001),
        blocks: [
          { type: "header", text: plain(x(151)) },
          { type: "actions", elements: [button({ value: x(2001) })] },
        ],
      },
      "message",
    );
    expect(violations.map((v) => v.path)).toEqual([
      "text",
      "blocks[0].text.text",
      "blocks[1].elements[0].value",
    ]);
  });

  it("does not apply view limits to messages", () => {
    expect(checkBlockKitLimits({ title: plain(x(25)), blocks: dividers(50) }, "message")).toEqual([]);
  });

  it("walks untrusted JSON without throwing", () => {
    const junk: unknown[] = [
      null,
      7,
      "section",
      [],
      { type: 3 },
      { type: "section", text: "bare", fields: "no" },
    ];
    expect(checkBlockKitLimits({ text: 12, blocks: junk }, "message")).toEqual([]);
    expect(checkBlockKitLimits({ blocks: "not an array" }, "modal")).toEqual([]);
    expect(
      checkBlockKitLimits(
        { blocks: [{ type: "actions", elements: [null, { type: "button", text: 5 }] }] },
        "home",
      ),
    ).toEqual([]);
  });
});

describe("blockKitErrorCode", () => {
  const violation = (rule: BlockKitRule) => ({ path: "p", rule, limit: 1, actual: 2 });

  it("answers msg_too_long when only the fallback text is too long", () => {
    expect(blockKitErrorCode([violation("text_length")])).toBe("msg_too_long");
  });

  it("answers invalid_blocks as soon as a block is at fault", () => {
    expect(blockKitErrorCode([violation("blocks_count_message")])).toBe("invalid_blocks");
    expect(blockKitErrorCode([violation("text_length"), violation("header_text_length")])).toBe(
      "invalid_blocks",
    );
  });
});

describe("assertWithinBlockKitLimits", () => {
  it("passes a message within limits", () => {
    expect(() => assertWithinBlockKitLimits({ text: "hi", blocks: dividers(50) }, "message")).not.toThrow();
  });

  it("throws an error naming each offending path and its code", () => {
    const send = () => assertWithinBlockKitLimits({ blocks: dividers(51) }, "message");
    expect(send).toThrow(BlockKitLimitError);
    expect(send).toThrow(/blocks blocks_count_message 51 > 50/);
    try {
      send();
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid_blocks", violations: [{ path: "blocks", actual: 51 }] });
    }
  });
});

// Strings either short and arbitrary (any unicode) or exactly at the limit, kept within it in UTF-16 units.
const textUpTo = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    {
      arbitrary: fc.string({ unit: "binary", maxLength: max, size: "small" }).map((s) => s.slice(0, max)),
      weight: 4,
    },
    { arbitrary: fc.constant(x(max)), weight: 1 },
  );
const plainUpTo = (max: number): fc.Arbitrary<PlainTextElement> =>
  textUpTo(max).map((text) => ({ type: "plain_text", text }));
const mrkdwnUpTo = (max: number): fc.Arbitrary<MrkdwnElement> =>
  textUpTo(max).map((text) => ({ type: "mrkdwn", text }));

const confirmArb: fc.Arbitrary<ConfirmationDialog> = fc.record({
  title: plainUpTo(100),
  text: plainUpTo(300),
  confirm: plainUpTo(30),
  deny: plainUpTo(30),
});
const buttonArb: fc.Arbitrary<Button> = fc.record(
  {
    type: fc.constant("button"),
    text: plainUpTo(75),
    action_id: textUpTo(255),
    value: textUpTo(2000),
    url: textUpTo(3000),
    confirm: confirmArb,
  },
  { requiredKeys: ["type", "text", "action_id"] },
);
const blockArb: fc.Arbitrary<KnownBlock> = fc.oneof(
  fc.record(
    {
      type: fc.constant("section"),
      block_id: textUpTo(255),
      text: mrkdwnUpTo(3000),
      fields: fc.array(mrkdwnUpTo(2000), { maxLength: 10, size: "max" }),
      accessory: buttonArb,
    },
    { requiredKeys: ["type"] },
  ),
  fc.record({ type: fc.constant("header"), text: plainUpTo(150) }),
  fc.record({
    type: fc.constant("context"),
    elements: fc.array(mrkdwnUpTo(3000), { minLength: 1, maxLength: 10, size: "max" }),
  }),
  fc.record({
    type: fc.constant("actions"),
    elements: fc.array(buttonArb, { minLength: 1, maxLength: 25, size: "max" }),
  }),
  fc.record({ type: fc.constant("divider") }),
  fc.record(
    {
      type: fc.constant("input"),
      label: plainUpTo(2000),
      hint: plainUpTo(2000),
      element: fc.record(
        { type: fc.constant("plain_text_input"), action_id: textUpTo(255), placeholder: plainUpTo(150) },
        { requiredKeys: ["type", "action_id"] },
      ),
    },
    { requiredKeys: ["type", "label", "element"] },
  ),
);

// Swaps the heaviest blocks for dividers until the whole payload fits: every generated message is one
// Slack accepts, and block counts still reach the surface's limit.
function fitJson(blocks: KnownBlock[]): KnownBlock[] {
  const divider: KnownBlock = { type: "divider" };
  const kept = [...blocks];
  const sizes = kept.map((b) => JSON.stringify(b).length);
  const total = () => JSON.stringify(kept).length;
  while (total() > BLOCK_KIT_LIMITS.blocks_json_length) {
    const heaviest = sizes.indexOf(Math.max(...sizes));
    kept[heaviest] = divider;
    sizes[heaviest] = 0;
  }
  return kept;
}

const payloadArb: fc.Arbitrary<{ surface: BlockKitSurface; payload: BlockKitPayload }> = fc
  .constantFrom<BlockKitSurface>("message", "modal", "home")
  .chain((surface) =>
    fc.record({
      surface: fc.constant(surface),
      payload: fc.record(
        {
          text: textUpTo(40_000),
          blocks: fc
            .array(blockArb, {
              maxLength: surface === "message" ? 50 : 100,
              size: "max",
            })
            .map(fitJson),
          title: plainUpTo(24),
          submit: plainUpTo(24),
          close: plainUpTo(24),
          callback_id: textUpTo(255),
          private_metadata: textUpTo(3000),
        },
        { requiredKeys: ["blocks"] },
      ),
    }),
  );

describe("checkBlockKitLimits property", () => {
  it("never flags a payload built within every limit", () => {
    fc.assert(
      fc.property(payloadArb, ({ surface, payload }) => {
        expect(checkBlockKitLimits(payload, surface)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
