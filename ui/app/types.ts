/**
 * The shapes the admin API answers (docs/admin-api.md), as the page reads them.
 * Every one is the server's own type (`import type`: erased by the bundler, so
 * the page's bundle holds no server code), so a change on the server side is a
 * type error in the page, not a silent mismatch.
 */
import type { SyncHealth } from "../../cloud/mod.ts";
import type { BackupEntry, BackupSettings, BackupStatus, HubStatus } from "../../hub/mod.ts";
import type {
  ActivityBucket,
  ConflictView as Conflict,
  DeviceRecord as Device,
  FieldDifference,
  VersionAuthor,
} from "../../store/mod.ts";
import type { UpdateStatus } from "../../update/mod.ts";
import type { AutoLockState } from "../_autolock.ts";
import type { AuthorisedClinics } from "../_clinics.ts";

export type {
  AutoLockState,
  BackupEntry,
  BackupSettings,
  BackupStatus,
  Conflict,
  Device,
  FieldDifference,
  HubStatus,
  SyncHealth,
  UpdateStatus,
  VersionAuthor,
};

/** An authorised clinic (`GET /api/clinics`). */
export type Clinic = AuthorisedClinics["clinics"][number];

/** One hour of sync activity (`GET /api/activity`). */
export type { ActivityBucket };
