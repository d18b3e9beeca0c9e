export * from "./audit.js";
export * from "./fleet.js";
export * from "./outbox.js";
export * from "./risk.js";
export * from "./rollouts.js";
export * from "./scans.js";
export * from "./slack.js";
export * from "./tokens.js";
