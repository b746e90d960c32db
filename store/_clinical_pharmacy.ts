/**
 * Dispensing a prescription item: one change that raises the item's dispensed
 * quantity, takes the stock out of each inventory batch the hub tracks, and
 * writes one dispensing record per batch, all or nothing.
 */
import { HubError } from "../core/mod.ts";
import { type LocalWriteMeta, writeLocal } from "./_local.ts";
import { live } from "./_read.ts";
import type { StoreParts } from "./_parts.ts";

/**
 * What {@link dispensePrescriptionItem} takes.
 *
 * @example
 * ```ts
 * import type { Store } from "./mod.ts";
 *
 * declare const store: Store;
 * declare const itemId: string; // the prescription item handed out
 * declare const userId: string; // the caller's, from their token
 * const req: DispenseRequest = { id: itemId, provider_id: userId, batch_quantities: { b1: 2 }, userId };
 * store.clinical.dispense({ now: Date.now() }, req);
 * ```
 */
export interface DispenseRequest {
  /** The prescription item. */
  id: string;
  /** Who hands the medicine out (recorded as `dispensed_by`). */
  provider_id: string;
  /** Batch id → quantity taken from it (positive integers). */
  batch_quantities: Record<string, number>;
  /** The calling user (recorded as `recorded_by_user_id`). */
  userId: string;
}

/**
 * Dispenses an item. A batch the clinic's inventory lists must hold enough stock
 * (else `insufficient_stock`, nothing written); a batch it does not list is taken
 * as untracked stock and only recorded.
 */
export function dispensePrescriptionItem(
  store: StoreParts,
  meta: LocalWriteMeta,
  req: DispenseRequest,
): { ok: true; total_dispensed: number } {
  return writeLocal(store, meta, (w) => {
    const item = w.require("prescription_items", req.id);
    let total = 0;
    for (const [batchId, qty] of Object.entries(req.batch_quantities)) {
      total += qty;
      const stock = w.query(
        `SELECT id, quantity_available FROM clinic_inventory
         WHERE clinic_id = ? AND drug_id = ? AND (batch_id = ? OR id = ?) AND ${live()}
         ORDER BY (batch_id = ?) DESC, id LIMIT 1`,
        item.clinic_id,
        item.drug_id,
        batchId,
        batchId,
        batchId,
      )[0];
      if (stock) {
        const available = stock.quantity_available as number;
        if (qty > available) {
          throw new HubError(
            "insufficient_stock",
            409,
            `Batch '${batchId}' holds ${available}; ${qty} cannot be dispensed from it.`,
            { details: { batch_id: batchId, available, requested: qty } },
          );
        }
        w.patch("clinic_inventory", stock.id as string, { quantity_available: available - qty });
      }
      w.put("dispensing_records", {
        id: crypto.randomUUID(),
        clinic_id: item.clinic_id,
        drug_id: item.drug_id,
        batch_id: batchId,
        prescription_item_id: req.id,
        patient_id: item.patient_id,
        quantity_dispensed: qty,
        dosage_instructions: item.dosage_instructions,
        dispensed_by: req.provider_id,
        dispensed_at: meta.now,
        recorded_by_user_id: req.userId,
        metadata: "{}",
      });
    }
    const dispensed = ((item.quantity_dispensed as number | null) ?? 0) + total;
    w.patch("prescription_items", req.id, { quantity_dispensed: dispensed });
    return { ok: true, total_dispensed: dispensed };
  });
}
