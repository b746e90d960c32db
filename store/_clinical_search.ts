/**
 * Filtered and paginated reads: appointments, prescriptions, the drug catalogue
 * and clinic inventory. Each filter maps to a fixed column; the caller's values
 * are bound; free text is matched with LIKE, its wildcards escaped. Orders end
 * with `id` so pages are stable.
 */
import type { Database } from "./_db.ts";
import {
  APPOINTMENT_COLUMNS,
  DRUG_COLUMNS,
  INVENTORY_COLUMNS,
  PRESCRIPTION_COLUMNS,
} from "./_clinical_shapes.ts";
import { all, contains, ESCAPE, live, one, type Paged, placeholders, reading } from "./_read.ts";
import type { Row } from "./_read.ts";

function cols(alias: string, columns: readonly string[]): string {
  return columns.map((c) => `${alias}.${c}`).join(", ");
}

/** Runs the count and the page of one filtered query in one read transaction. */
function paged(
  db: Database,
  from: string,
  where: string[],
  args: unknown[],
  select: string,
  orderBy: string,
  page: { limit: number; offset: number },
): Paged {
  const w = where.join(" AND ");
  return reading(db, () => {
    const total = one(db, `SELECT count(*) AS n FROM ${from} WHERE ${w}`, ...args)!.n as number;
    const data = all(
      db,
      `SELECT ${select} FROM ${from} WHERE ${w} ORDER BY ${orderBy} LIMIT ? OFFSET ?`,
      ...args,
      page.limit,
      page.offset,
    );
    return { data, total, limit: page.limit, offset: page.offset };
  });
}

/** `appointments.list`: appointments in [start, end], optionally one clinic and one status. */
export function listAppointments(
  db: Database,
  q: {
    start_date: number;
    end_date: number;
    clinic_id?: string | null;
    status?: string | null;
    limit: number;
    offset: number;
  },
): Paged {
  const where = [live("a"), "a.timestamp >= ?", "a.timestamp <= ?"];
  const args: unknown[] = [q.start_date, q.end_date];
  if (q.clinic_id) where.push("a.clinic_id = ?"), args.push(q.clinic_id);
  if (q.status) where.push("a.status = ?"), args.push(q.status);
  return paged(
    db,
    "appointments a",
    where,
    args,
    cols("a", APPOINTMENT_COLUMNS),
    "a.timestamp DESC, a.id",
    q,
  );
}

/**
 * `appointments.search`: a clinic's appointments from `date` on, whose patient's
 * name or whose reason contains the text, optionally in some departments and statuses.
 */
export function searchAppointments(
  db: Database,
  q: {
    search_query: string;
    clinic_id: string;
    department_ids?: string[] | null;
    status?: string[] | null;
    date: number;
    limit: number;
    offset: number;
  },
): Paged {
  const where = [live("a"), "a.clinic_id = ?", "a.timestamp >= ?"];
  const args: unknown[] = [q.clinic_id, q.date];
  const text = q.search_query.trim();
  if (text) {
    where.push(
      `(p.given_name LIKE ? ${ESCAPE} OR p.surname LIKE ? ${ESCAPE} OR a.reason LIKE ? ${ESCAPE})`,
    );
    args.push(contains(text), contains(text), contains(text));
  }
  if (q.status?.length) {
    where.push(`a.status IN (${placeholders(q.status.length)})`);
    args.push(...q.status);
  }
  if (q.department_ids?.length) {
    // departments is a JSON array of {id, name, ...} (or of plain ids).
    where.push(
      `EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(a.departments) THEN a.departments ELSE '[]' END) d
        WHERE (CASE WHEN d.type = 'object' THEN json_extract(d.value, '$.id') ELSE d.value END)
          IN (${placeholders(q.department_ids.length)}))`,
    );
    args.push(...q.department_ids);
  }
  return paged(
    db,
    "appointments a LEFT JOIN patients p ON p.id = a.patient_id",
    where,
    args,
    cols("a", APPOINTMENT_COLUMNS),
    "a.timestamp DESC, a.id",
    q,
  );
}

/** `prescriptions.search`: by patient name or notes, pickup clinic, statuses, prescribed since. */
export function searchPrescriptions(
  db: Database,
  q: {
    search_query?: string | null;
    clinic_id?: string | null;
    status?: string[] | null;
    date?: number | null;
    limit: number;
    offset: number;
  },
): Paged {
  const where = [live("rx")];
  const args: unknown[] = [];
  const text = q.search_query?.trim();
  if (text) {
    where.push(
      `(p.given_name LIKE ? ${ESCAPE} OR p.surname LIKE ? ${ESCAPE} OR rx.notes LIKE ? ${ESCAPE})`,
    );
    args.push(contains(text), contains(text), contains(text));
  }
  if (q.clinic_id) where.push("rx.pickup_clinic_id = ?"), args.push(q.clinic_id);
  if (q.status?.length) {
    where.push(`rx.status IN (${placeholders(q.status.length)})`);
    args.push(...q.status);
  }
  if (q.date !== undefined && q.date !== null) {
    where.push("rx.prescribed_at >= ?"), args.push(q.date);
  }
  return paged(
    db,
    "prescriptions rx LEFT JOIN patients p ON p.id = rx.patient_id",
    where,
    args,
    cols("rx", PRESCRIPTION_COLUMNS),
    "rx.prescribed_at DESC, rx.id",
    q,
  );
}

/** `drugs.search`: text in generic name, brand name or barcode; exact form, route, active flag. */
export function searchDrugs(
  db: Database,
  q: {
    search_term?: string | null;
    form?: string | null;
    route?: string | null;
    is_active?: boolean | null;
    limit: number;
  },
): { data: Row[] } {
  const where = [live()];
  const args: unknown[] = [];
  const text = q.search_term?.trim();
  if (text) {
    where.push(
      `(generic_name LIKE ? ${ESCAPE} OR brand_name LIKE ? ${ESCAPE} OR barcode LIKE ? ${ESCAPE})`,
    );
    args.push(contains(text), contains(text), contains(text));
  }
  if (q.form) where.push("form = ?"), args.push(q.form);
  if (q.route) where.push("route = ?"), args.push(q.route);
  if (q.is_active !== undefined && q.is_active !== null) {
    where.push("coalesce(is_active, 0) = ?"), args.push(q.is_active ? 1 : 0);
  }
  return {
    data: all(
      db,
      `SELECT ${DRUG_COLUMNS.join(", ")} FROM drug_catalogue WHERE ${where.join(" AND ")}
       ORDER BY generic_name, id LIMIT ?`,
      ...args,
      q.limit,
    ),
  };
}

/** `inventory.by_clinic` and `inventory.search` (drug name, brand, barcode or batch number). */
export function clinicInventory(
  db: Database,
  q: { clinic_id: string; search_term?: string | null; limit: number },
): { data: Row[] } {
  const text = q.search_term?.trim();
  if (!text) {
    return {
      data: all(
        db,
        `SELECT ${cols("ci", INVENTORY_COLUMNS)} FROM clinic_inventory ci
         WHERE ci.clinic_id = ? AND ${live("ci")} ORDER BY ci.updated_at DESC, ci.id LIMIT ?`,
        q.clinic_id,
        q.limit,
      ),
    };
  }
  const like = contains(text);
  return {
    data: all(
      db,
      `SELECT ${cols("ci", INVENTORY_COLUMNS)} FROM clinic_inventory ci
       LEFT JOIN drug_catalogue dc ON dc.id = ci.drug_id AND ${live("dc")}
       WHERE ci.clinic_id = ? AND ${live("ci")}
         AND (dc.generic_name LIKE ? ${ESCAPE} OR dc.brand_name LIKE ? ${ESCAPE}
           OR dc.barcode LIKE ? ${ESCAPE} OR ci.batch_number LIKE ? ${ESCAPE})
       ORDER BY dc.generic_name, ci.id LIMIT ?`,
      q.clinic_id,
      like,
      like,
      like,
      like,
      q.limit,
    ),
  };
}

/** `inventory.check_availability`: stock on hand minus reservations, against a need. */
export function drugAvailability(
  db: Database,
  q: { drug_id: string; clinic_id: string; required_quantity: number },
): { available: boolean; total_available: number } {
  const r = one(
    db,
    `SELECT coalesce(sum(quantity_available - coalesce(reserved_quantity, 0)), 0) AS n
     FROM clinic_inventory WHERE drug_id = ? AND clinic_id = ? AND ${live()}`,
    q.drug_id,
    q.clinic_id,
  );
  const total = (r?.n as number) ?? 0;
  return { available: total >= q.required_quantity, total_available: total };
}
