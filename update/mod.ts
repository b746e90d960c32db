/** Updates by signed binary swap: manifest, minisign verification, swap and rollback. */
export { Updater, type UpdaterOptions, type UpdateState, type UpdateStatus } from "./updater.ts";
export { compareVersions, type Manifest, parseManifest, platformKey } from "./_manifest.ts";
export {
  generateKeyPair,
  type MinisignPublicKey,
  type MinisignSecretKey,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  publicKeyFile,
  secretKeyFile,
  signFile,
  verifyFile,
} from "./_minisign.ts";
export {
  launchAndConfirm,
  recoverInterruptedSwap,
  rollback,
  swapExecutable,
  swapPaths,
} from "./_swap.ts";
