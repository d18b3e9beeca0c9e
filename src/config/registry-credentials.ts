import type { RegistryCredentials } from "../adapters/registry/registry-client.js";
import type { PatchpilotConfig } from "./file-schema.js";

/**
 * The registries' credentials, read from the environment variables `registries[]` names (never
 * from the file itself). A variable named but not set is reported by name; that registry is then
 * asked anonymously, and a 401 from it says where to set the credentials.
 */
export function registryCredentials(
  config: PatchpilotConfig,
  env: Record<string, string | undefined>,
): { registries: RegistryCredentials[]; missing: string[] } {
  const missing: string[] = [];
  const registries = config.registries.map((r, i) => {
    const read = (name: string | undefined, field: string) => {
      if (name === undefined) return undefined;
      const value = env[name];
      if (value === undefined || value === "") missing.push(`${name} (registries[${i}].${field}, ${r.host})`);
      return value || undefined;
    };
    const username = read(r.usernameEnv, "usernameEnv");
    const password = read(r.passwordEnv, "passwordEnv");
    return {
      host: r.host,
      insecure: r.insecure,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  });
  return { registries, missing };
}
