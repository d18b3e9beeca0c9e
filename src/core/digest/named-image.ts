/** An image as messages name it: the config id people type, and the repository it lives in. */
export type NamedImage = {
  imageId: string;
  /** The config id (`payments-api`), or the repository for an image no config names. */
  name: string;
  /** Canonical repository, e.g. `ghcr.io/acme/payments-api` or `docker.io/library/node`. */
  repository: string;
};
