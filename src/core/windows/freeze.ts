/** A period in which no deployment runs, emergencies included: from inclusive, to exclusive. */
export type Freeze = {
  id: string;
  from: Date;
  to: Date;
  environments: string[] | "all";
  reason: string;
};
