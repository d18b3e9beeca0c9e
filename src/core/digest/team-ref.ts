/** A team as messages name it: `id` is what `/patch status <team>` takes, `name` what people read. */
export type TeamRef = { id: string; name: string };
