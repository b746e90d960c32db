/** The encrypted secrets file (`hub.vault`) next to the database. */
export {
  checkNewPassphrase,
  type CloudLink,
  createVault,
  type CreateVaultOptions,
  generateSecrets,
  MIN_PASSPHRASE_LENGTH,
  OpenVault,
  openVault,
  type VaultSecrets,
} from "./vault.ts";
export { MIN_ITERATIONS } from "./_format.ts";
