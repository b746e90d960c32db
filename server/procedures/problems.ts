/**
 * Problem (diagnosis) procedures the phone's online mode calls, which the
 * reference hub lacks: `problems.list|get|create|update`, answered in the
 * phone's shape (JSON as objects, flags as booleans).
 */
import { z } from "zod";
import {
  clinical,
  defined,
  id,
  json,
  limit,
  metaOf,
  num,
  optId,
  orNull,
  storeOf,
  timestamp,
  userOf,
} from "./_params.ts";
import { clinics, patientOf, rowOf } from "./_scope.ts";

const code = z.string().max(1000);

/** `problems.create` → `{success, id}`. */
export const createProblemCommand = clinical({
  name: "problems.create",
  scope: clinics(rowOf("patient_problems"), patientOf(), rowOf("visits", "visit_id")),
  kind: "command",
  permission: "can_edit_records",
  inReference: false,
  params: z.object({
    id: optId,
    patient_id: id,
    visit_id: z.string().max(200).nullish(),
    problem_code_system: code,
    problem_code: code,
    problem_label: code,
    clinical_status: code,
    verification_status: code,
    severity_score: num.nullish(),
    onset_date: timestamp.nullish(),
    end_date: timestamp.nullish(),
    recorded_by_user_id: z.string().max(200).nullish(),
    metadata: json.nullish(),
  }),
  handler: (p, ctx) => {
    const store = storeOf(ctx);
    store.records.require("patients", p.patient_id);
    const row = store.records.put(metaOf(ctx), "patient_problems", {
      ...p,
      recorded_by_user_id: p.recorded_by_user_id || userOf(ctx),
      metadata: p.metadata ?? "{}",
    });
    return { success: true, id: row.id };
  },
});

/** `problems.update {id, ...}` → the whole problem; a field given as null is cleared. */
export const updateProblemCommand = clinical({
  name: "problems.update",
  scope: clinics(rowOf("patient_problems"), rowOf("visits", "visit_id")),
  kind: "command",
  permission: "can_edit_records",
  inReference: false,
  params: z.object({
    id,
    visit_id: z.string().max(200).nullish(),
    problem_code_system: code.optional(),
    problem_code: code.optional(),
    problem_label: code.optional(),
    clinical_status: code.optional(),
    verification_status: code.optional(),
    severity_score: num.nullish(),
    onset_date: timestamp.nullish(),
    end_date: timestamp.nullish(),
    metadata: json.optional(),
  }),
  handler: (p, ctx) => {
    const { id: problemId, ...changes } = p;
    return storeOf(ctx).records.patch(metaOf(ctx), "patient_problems", problemId, defined(changes));
  },
});

/** `problems.list {patient_id}` → the patient's problems, newest first (an array). */
export const listProblemsQuery = clinical({
  name: "problems.list",
  scope: clinics(patientOf()),
  kind: "query",
  inReference: false,
  params: z.object({ patient_id: id, limit: limit(1000, 5000) }),
  handler: (p, ctx) =>
    storeOf(ctx).records.list("patient_problems", {
      where: { patient_id: p.patient_id },
      orderBy: "created_at DESC, id",
      limit: p.limit,
    }),
});

/** `problems.get {id}` → the problem, or null. */
export const getProblemQuery = clinical({
  name: "problems.get",
  scope: clinics(rowOf("patient_problems")),
  kind: "query",
  inReference: false,
  params: z.object({ id }),
  handler: (p, ctx) => {
    const row = storeOf(ctx).records.get("patient_problems", p.id);
    return orNull(row);
  },
});

/** Every problem procedure. */
export const PROBLEM_PROCEDURES = [
  createProblemCommand,
  updateProblemCommand,
  listProblemsQuery,
  getProblemQuery,
];
