/**
 * Pharmacy procedures (all in the reference): prescription items, dispensing,
 * the drug catalogue and clinic inventory.
 */
import { z } from "zod";
import {
  DISPENSING_COLUMNS,
  DRUG_COLUMNS,
  pick,
  PRESCRIPTION_ITEM_COLUMNS,
} from "../../store/mod.ts";
import {
  clinical,
  count,
  given,
  id,
  json,
  limit,
  metaOf,
  optId,
  orNull,
  storeOf,
  text,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinicParam, clinics, noClinic, patientOf, rowOf } from "./_scope.ts";

const optString = z.string().max(200).nullish();
const DRUGS = noClinic("the drug catalogue is shared by every clinic");

/** The columns a prescription-item update may change. */
const ITEM_CHANGEABLE = {
  dosage_instructions: text,
  quantity_prescribed: count.nullish(),
  quantity_dispensed: count.nullish(),
  refills_authorized: count.nullish(),
  refills_used: count.nullish(),
  item_status: optString,
  notes: text,
  metadata: json.nullish(),
};

/** `prescription_items.create` → `{id}`; upsert by id. */
export const createPrescriptionItemCommand = clinical({
  name: "prescription_items.create",
  scope: clinics(
    rowOf("prescription_items"),
    rowOf("prescriptions", "prescription_id"),
    patientOf(),
    clinicParam(),
  ),
  kind: "command",
  permission: "can_prescribe_medications",
  inReference: true,
  params: z.object({
    id: optId,
    prescription_id: id,
    patient_id: id,
    drug_id: id,
    clinic_id: id,
    ...ITEM_CHANGEABLE,
    quantity_prescribed: count,
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    store.records.require("prescriptions", p.prescription_id);
    const row = store.records.put(metaOf(ctx), "prescription_items", {
      ...p,
      dosage_instructions: p.dosage_instructions ?? "",
      quantity_dispensed: p.quantity_dispensed ?? 0,
      refills_authorized: p.refills_authorized ?? 0,
      refills_used: p.refills_used ?? 0,
      item_status: p.item_status || "active",
      metadata: p.metadata ?? "{}",
      recorded_by_user_id: userOf(ctx),
    });
    return { id: row.id };
  },
});

/** `prescription_items.update {id, ...}` → the whole item; only the fields given change. */
export const updatePrescriptionItemCommand = clinical({
  name: "prescription_items.update",
  scope: clinics(rowOf("prescription_items")),
  kind: "command",
  permission: "can_prescribe_medications",
  inReference: true,
  params: z.object({ id, ...ITEM_CHANGEABLE, updated_at: timestamp.nullish() }),
  handler: (p, ctx) => {
    const { id: itemId, ...changes } = p;
    const row = storeOf(ctx).records.patch(
      metaOf(ctx),
      "prescription_items",
      itemId,
      given(changes),
    );
    return pick(row, PRESCRIPTION_ITEM_COLUMNS);
  },
});

/**
 * `prescription_items.dispense {id, provider_id, batch_quantities}` →
 * `{ok, total_dispensed}`: takes stock out of tracked batches, records each batch.
 */
export const dispensePrescriptionItemCommand = clinical({
  name: "prescription_items.dispense",
  scope: clinics(rowOf("prescription_items")),
  kind: "command",
  permission: "can_dispense_medications",
  inReference: true,
  params: z.object({
    id,
    provider_id: optString,
    batch_quantities: z.record(z.string().min(1).max(200), count.min(1))
      .refine((b) => Object.keys(b).length >= 1 && Object.keys(b).length <= 100, {
        error: "expected 1 to 100 batches",
      }),
  }),
  handler: (p, ctx) =>
    storeOf(ctx).clinical.dispense(metaOf(ctx), {
      id: p.id,
      provider_id: p.provider_id || userOf(ctx),
      batch_quantities: p.batch_quantities,
      userId: userOf(ctx),
    }),
});

/** `dispensing.create` → `{id}`: records medication handed to a patient. */
export const createDispensingCommand = clinical({
  name: "dispensing.create",
  scope: clinics(rowOf("dispensing_records"), clinicParam(), patientOf()),
  kind: "command",
  permission: "can_dispense_medications",
  inReference: true,
  params: z.object({
    id: optId,
    clinic_id: id,
    drug_id: id,
    batch_id: optString,
    prescription_item_id: optString,
    patient_id: id,
    quantity_dispensed: count,
    dosage_instructions: text,
    days_supply: count.nullish(),
    dispensed_by: optString,
    dispensed_at: timestamp.nullish(),
    metadata: json.nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    store.records.require("patients", p.patient_id);
    const row = store.records.put(metaOf(ctx), "dispensing_records", {
      ...p,
      dispensed_by: p.dispensed_by || userOf(ctx),
      dispensed_at: p.dispensed_at ?? ctx.now,
      metadata: p.metadata ?? "{}",
      recorded_by_user_id: userOf(ctx),
    });
    return { id: row.id };
  },
});

/** `prescription_items.by_prescription {prescription_id}` → `{data}`, oldest first. */
export const itemsByPrescriptionQuery = clinical({
  name: "prescription_items.by_prescription",
  scope: clinics(rowOf("prescriptions", "prescription_id")),
  kind: "query",
  inReference: true,
  params: z.object({ prescription_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("prescription_items", {
      columns: PRESCRIPTION_ITEM_COLUMNS,
      where: { prescription_id: p.prescription_id },
      orderBy: "created_at ASC, id",
      limit: p.limit,
    }),
  }),
});

/** `prescription_items.by_patient {patient_id}` → `{data}`, newest first. */
export const itemsByPatientQuery = clinical({
  name: "prescription_items.by_patient",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: true,
  params: z.object({ patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("prescription_items", {
      columns: PRESCRIPTION_ITEM_COLUMNS,
      where: { patient_id: p.patient_id },
      orderBy: "created_at DESC, id",
      limit: p.limit,
    }),
  }),
});

/** `dispensing.by_patient {patient_id}` → `{data}`, latest first. */
export const dispensingByPatientQuery = clinical({
  name: "dispensing.by_patient",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: true,
  params: z.object({ patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => ({
    data: storeOf(ctx).records.list("dispensing_records", {
      columns: DISPENSING_COLUMNS,
      where: { patient_id: p.patient_id },
      orderBy: "dispensed_at DESC, id",
      limit: p.limit,
    }),
  }),
});

/** `drugs.search {search_term?, form?, route?, is_active?}` → `{data}` by generic name. */
export const searchDrugsQuery = clinical({
  name: "drugs.search",
  scope: DRUGS,
  kind: "query",
  inReference: true,
  params: z.object({
    search_term: z.string().max(200).nullish(),
    form: optString,
    route: optString,
    is_active: z.boolean().nullish(),
    limit: limit(500, 5000),
  }),
  handler: (p, ctx) => storeOf(ctx).clinical.searchDrugs(p),
});

/** `drugs.get {id}` → the drug, or null. */
export const getDrugQuery = clinical({
  name: "drugs.get",
  scope: DRUGS,
  kind: "query",
  inReference: true,
  params: z.object({ id }),
  handler: (p, ctx) => orNull(storeOf(ctx).records.get("drug_catalogue", p.id, DRUG_COLUMNS)),
});

/** `drugs.by_barcode {barcode}` → the drug, or null. */
export const drugByBarcodeQuery = clinical({
  name: "drugs.by_barcode",
  scope: DRUGS,
  kind: "query",
  inReference: true,
  params: z.object({ barcode: id }),
  handler: (p, ctx) =>
    orNull(
      storeOf(ctx).records.list("drug_catalogue", {
        columns: DRUG_COLUMNS,
        where: { barcode: p.barcode },
        orderBy: "updated_at DESC, id",
        limit: 1,
      })[0],
    ),
});

/** `inventory.by_clinic {clinic_id}` → `{data}`, recently changed first. */
export const inventoryByClinicQuery = clinical({
  name: "inventory.by_clinic",
  scope: clinics(clinicParam()),
  kind: "query",
  inReference: true,
  params: z.object({ clinic_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) => storeOf(ctx).clinical.clinicInventory(p),
});

/** `inventory.search {clinic_id, search_term}` → `{data}` by drug name. */
export const inventorySearchQuery = clinical({
  name: "inventory.search",
  scope: clinics(clinicParam()),
  kind: "query",
  inReference: true,
  params: z.object({
    clinic_id: id,
    search_term: z.string().max(200),
    limit: limit(1000, 5000),
  }),
  handler: (p, ctx) => storeOf(ctx).clinical.clinicInventory(p),
});

/** `inventory.check_availability {drug_id, clinic_id, required_quantity}` → `{available, total_available}`. */
export const checkAvailabilityQuery = clinical({
  name: "inventory.check_availability",
  scope: clinics(clinicParam()),
  kind: "query",
  inReference: true,
  params: z.object({ drug_id: id, clinic_id: id, required_quantity: count }),
  handler: (p, ctx) => storeOf(ctx).clinical.drugAvailability(p),
});

/** Every pharmacy procedure. */
export const PHARMACY_PROCEDURES = [
  createPrescriptionItemCommand,
  updatePrescriptionItemCommand,
  dispensePrescriptionItemCommand,
  createDispensingCommand,
  itemsByPrescriptionQuery,
  itemsByPatientQuery,
  dispensingByPatientQuery,
  searchDrugsQuery,
  getDrugQuery,
  drugByBarcodeQuery,
  inventoryByClinicQuery,
  inventorySearchQuery,
  checkAvailabilityQuery,
];
