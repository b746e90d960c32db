/** The hub's version; `scripts/build.ts` stamps release builds. */
export const VERSION = "0.1.0-dev";
