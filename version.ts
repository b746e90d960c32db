/** Build information; `scripts/build.ts` stamps release builds (and restores this file). */

/** The hub's version. */
export const VERSION: string = "0.1.0-dev";
/** Where the updater looks for `latest.json` (null: updates off, as in development). */
export const UPDATE_MANIFEST_URL: string | null = null;
/** The minisign public key update files must be signed with (null: updates off). */
export const UPDATE_PUBLIC_KEY: string | null = null;
