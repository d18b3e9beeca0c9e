import type { KnownBlock } from "@slack/types";

export type BlockKitSurface = "message" | "modal" | "home";

export type BlockKitErrorCode = "invalid_blocks" | "msg_too_long";

export type BlockKitViolation = { path: string; rule: string; limit: number; actual: number };

/**
 * What a message or a view looks like to the checker. Every field is `unknown` because the fake Slack
 * runs this on JSON it has not validated; typed messages and `ModalView`/`HomeView` are assignable.
 */
export type BlockKitPayload = {
  text?: unknown;
  blocks?: unknown;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  callback_id?: unknown;
  private_metadata?: unknown;
};

/**
 * Slack's documented limits, by rule name; renderers read these to truncate before they overflow.
 * blocks_json_length is our own, stricter house limit (ARCHITECTURE.md: ~13k characters per
 * message) so long content goes to a thread instead of a wall of blocks.
 */
export const BLOCK_KIT_LIMITS = {
  text_length: 40_000,
  blocks_count_message: 50,
  blocks_count_view: 100,
  blocks_json_length: 13_000,
  block_id_length: 255,
  section_text_length: 3000,
  section_fields_count: 10,
  section_field_length: 2000,
  header_text_length: 150,
  context_elements_count: 10,
  context_text_length: 3000,
  actions_elements_count: 25,
  input_label_length: 2000,
  input_hint_length: 2000,
  action_id_length: 255,
  placeholder_length: 150,
  button_text_length: 75,
  button_value_length: 2000,
  button_url_length: 3000,
  confirm_title_length: 100,
  confirm_text_length: 300,
  confirm_button_length: 30,
  view_title_length: 24,
  view_submit_length: 24,
  view_close_length: 24,
  view_callback_id_length: 255,
  view_private_metadata_length: 3000,
} as const;

export type BlockKitRule = keyof typeof BLOCK_KIT_LIMITS;

type Check = (path: string, rule: BlockKitRule, actual: number) => void;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// UTF-16 length never undercounts what Slack counts, so a message we pass is one Slack accepts.
function lengthOf(value: unknown): number {
  return typeof value === "string" ? value.length : 0;
}

function countOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function textLengthOf(textObject: unknown): number {
  return isRecord(textObject) ? lengthOf(textObject.text) : 0;
}

function checkConfirm(confirm: unknown, path: string, check: Check): void {
  if (!isRecord(confirm)) return;
  check(`${path}.title.text`, "confirm_title_length", textLengthOf(confirm.title));
  check(`${path}.text.text`, "confirm_text_length", textLengthOf(confirm.text));
  check(`${path}.confirm.text`, "confirm_button_length", textLengthOf(confirm.confirm));
  check(`${path}.deny.text`, "confirm_button_length", textLengthOf(confirm.deny));
}

function checkElement(element: unknown, path: string, check: Check): void {
  if (!isRecord(element)) return;
  check(`${path}.action_id`, "action_id_length", lengthOf(element.action_id));
  check(`${path}.placeholder.text`, "placeholder_length", textLengthOf(element.placeholder));
  if (element.type === "button") {
    check(`${path}.text.text`, "button_text_length", textLengthOf(element.text));
    check(`${path}.value`, "button_value_length", lengthOf(element.value));
    check(`${path}.url`, "button_url_length", lengthOf(element.url));
  }
  checkConfirm(element.confirm, `${path}.confirm`, check);
}

function forEachItem(items: unknown, path: string, visit: (item: unknown, itemPath: string) => void): void {
  if (!Array.isArray(items)) return;
  items.forEach((item, i) => {
    visit(item, `${path}[${i}]`);
  });
}

type BlockChecker = (block: Record<string, unknown>, path: string, check: Check) => void;

const blockCheckers: Partial<Record<KnownBlock["type"], BlockChecker>> = {
  section: (block, path, check) => {
    check(`${path}.text.text`, "section_text_length", textLengthOf(block.text));
    check(`${path}.fields`, "section_fields_count", countOf(block.fields));
    forEachItem(block.fields, `${path}.fields`, (field, fieldPath) => {
      check(`${fieldPath}.text`, "section_field_length", textLengthOf(field));
    });
    checkElement(block.accessory, `${path}.accessory`, check);
  },
  header: (block, path, check) => {
    check(`${path}.text.text`, "header_text_length", textLengthOf(block.text));
  },
  context: (block, path, check) => {
    check(`${path}.elements`, "context_elements_count", countOf(block.elements));
    forEachItem(block.elements, `${path}.elements`, (element, elementPath) => {
      check(`${elementPath}.text`, "context_text_length", textLengthOf(element));
    });
  },
  actions: (block, path, check) => {
    check(`${path}.elements`, "actions_elements_count", countOf(block.elements));
    forEachItem(block.elements, `${path}.elements`, (element, elementPath) => {
      checkElement(element, elementPath, check);
    });
  },
  input: (block, path, check) => {
    check(`${path}.label.text`, "input_label_length", textLengthOf(block.label));
    check(`${path}.hint.text`, "input_hint_length", textLengthOf(block.hint));
    checkElement(block.element, `${path}.element`, check);
  },
};

const blockCheckersByType = new Map<unknown, BlockChecker>(Object.entries(blockCheckers));

function checkBlock(block: unknown, path: string, check: Check): void {
  if (!isRecord(block)) return;
  check(`${path}.block_id`, "block_id_length", lengthOf(block.block_id));
  blockCheckersByType.get(block.type)?.(block, path, check);
}

function checkView(payload: BlockKitPayload, surface: BlockKitSurface, check: Check): void {
  if (surface === "message") return;
  if (surface === "modal") {
    check("title.text", "view_title_length", textLengthOf(payload.title));
    check("submit.text", "view_submit_length", textLengthOf(payload.submit));
    check("close.text", "view_close_length", textLengthOf(payload.close));
  }
  check("callback_id", "view_callback_id_length", lengthOf(payload.callback_id));
  check("private_metadata", "view_private_metadata_length", lengthOf(payload.private_metadata));
}

/** Lists every documented Block Kit limit the payload breaks; an empty list means Slack will take it. */
export function checkBlockKitLimits(payload: BlockKitPayload, surface: BlockKitSurface): BlockKitViolation[] {
  const violations: BlockKitViolation[] = [];
  const check: Check = (path, rule, actual) => {
    const limit = BLOCK_KIT_LIMITS[rule];
    if (actual > limit) violations.push({ path, rule, limit, actual });
  };
  check("text", "text_length", lengthOf(payload.text));
  checkView(payload, surface, check);
  const { blocks } = payload;
  if (!Array.isArray(blocks)) return violations;
  check("blocks", surface === "message" ? "blocks_count_message" : "blocks_count_view", blocks.length);
  check("blocks", "blocks_json_length", JSON.stringify(blocks).length);
  forEachItem(blocks, "blocks", (block, path) => {
    checkBlock(block, path, check);
  });
  return violations;
}

/**
 * The error Slack answers with. An over-long fallback `text` alone is `msg_too_long`; once any block
 * is at fault Slack reports the blocks, so that wins.
 */
export function blockKitErrorCode(violations: readonly BlockKitViolation[]): BlockKitErrorCode {
  const onlyText = violations.length > 0 && violations.every((v) => v.rule === "text_length");
  return onlyText ? "msg_too_long" : "invalid_blocks";
}

export class BlockKitLimitError extends Error {
  readonly code: BlockKitErrorCode;
  readonly violations: readonly BlockKitViolation[];

  constructor(surface: BlockKitSurface, violations: readonly BlockKitViolation[]) {
    const listed = violations.map((v) => `${v.path} ${v.rule} ${v.actual} > ${v.limit}`).join("; ");
    super(`Block Kit limits exceeded for ${surface}: ${listed}`);
    this.name = "BlockKitLimitError";
    this.code = blockKitErrorCode(violations);
    this.violations = violations;
  }
}

/** Run before every send: a renderer bug must fail loudly here, not as `invalid_blocks` from Slack. */
export function assertWithinBlockKitLimits(payload: BlockKitPayload, surface: BlockKitSurface): void {
  const violations = checkBlockKitLimits(payload, surface);
  if (violations.length > 0) throw new BlockKitLimitError(surface, violations);
}
