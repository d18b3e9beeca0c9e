// The driver's own conversion of a parameter to its text form (values are written before they are sent: `client.ts`, `statements.ts`); the
// module ships without types.
declare module "pg/lib/utils.js" {
  export function prepareValue(value: unknown): string | Buffer | null | undefined;
}
