/** The clinics this hub is authorised for: ids from the cloud link (vault), names from the database. */
import type { Hub } from "../hub/mod.ts";

/** What `GET /api/clinics` answers. */
export interface AuthorisedClinics {
  /** True once the hub is linked to a cloud. */
  registered: boolean;
  /** The clinics of the link; `name` is null until the clinic's row has synced. */
  clinics: { id: string; name: string | null }[];
}

/** Reads the authorised clinics (throws the locked error while locked). */
export function authorisedClinics(hub: Hub): AuthorisedClinics {
  const link = hub.vault.secrets.cloud;
  const people = hub.store.people;
  return {
    registered: link !== undefined,
    clinics: (link?.clinicIds ?? []).map((id) => ({ id, name: people.clinicName(id) })),
  };
}
