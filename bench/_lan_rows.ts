/**
 * Realistic rows for the LAN benchmarks: patients and events whose JSON, as a
 * pull sends them, averages about 1.1 KB (names, free text, registration
 * answers in `additional_data`, form answers in `form_data`). Deterministic: the
 * same seed gives the same rows.
 */

const WORDS = (
  "patient reports mild headache since three days no fever appetite normal sleeps poorly " +
  "advised rest fluids follow up next week blood pressure stable taking medication as " +
  "prescribed cough worse at night family history of diabetes mother father sister works " +
  "farm market school teacher walks two hours to clinic water from well pregnant second " +
  "trimester vaccination card complete missing booster referred hospital district lab " +
  "results pending weight gain good counselling nutrition breastfeeding exclusive infant " +
  "growth chart normal range chronic pain knee left right joint swelling improved since " +
  "last visit education literacy primary secondary household size income seasonal"
).split(" ");
const GIVEN = [
  "Amina",
  "Omar",
  "Fatima",
  "Yusuf",
  "Layla",
  "Hassan",
  "Mariam",
  "Ibrahim",
  "Nour",
  "Khaled",
  "Salma",
  "Ali",
  "Huda",
  "Tariq",
  "Rania",
  "Samir",
];
const SURNAMES = [
  "Haddad",
  "Nasser",
  "Khalil",
  "Saleh",
  "Mansour",
  "Darwish",
  "Hamdan",
  "Qasim",
  "Aziz",
  "Farouk",
  "Karam",
  "Jaber",
];
const TOWNS = ["Al Mafraq", "Zaatari", "Irbid", "Ramtha", "Azraq", "Jerash", "Ajloun"];

/** A small fast PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function sentence(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(r, WORDS));
  return out.join(" ");
}

/** A UUID-shaped id derived from a kind and a number (stable across runs). */
export function benchId(kind: number, n: number): string {
  const hex = (n >>> 0).toString(16).padStart(12, "0");
  return `${kind.toString(16).padStart(8, "0")}-0000-4000-8000-${hex}`;
}

/** A patient row as the cloud or a phone sends it (JSON columns as text). */
export function benchPatient(
  r: () => number,
  n: number,
  now: number,
  clinicId: string,
): Record<string, unknown> {
  const additional = {
    occupation: pick(r, WORDS),
    education: pick(r, ["none", "primary", "secondary", "university"]),
    household_size: 1 + Math.floor(r() * 9),
    marital_status: pick(r, ["single", "married", "widowed"]),
    allergies: sentence(r, 6 + Math.floor(r() * 8)),
    chronic_conditions: sentence(r, 8 + Math.floor(r() * 10)),
    social_history: sentence(r, 14 + Math.floor(r() * 14)),
    emergency_contact: `${pick(r, GIVEN)} ${pick(r, SURNAMES)} +962 7${
      Math.floor(r() * 1e8).toString().padStart(8, "0")
    }`,
  };
  return {
    id: benchId(1, n),
    given_name: pick(r, GIVEN),
    surname: `${pick(r, SURNAMES)} ${pick(r, SURNAMES)}`,
    date_of_birth: `${1940 + Math.floor(r() * 80)}-0${1 + Math.floor(r() * 9)}-1${
      Math.floor(r() * 9)
    }`,
    citizenship: pick(r, ["Jordan", "Syria", "Iraq", "Palestine"]),
    hometown: pick(r, TOWNS),
    phone: `+962 7${Math.floor(r() * 1e8).toString().padStart(8, "0")}`,
    sex: pick(r, ["male", "female"]),
    camp: pick(r, ["District 4", "District 7", "Block C", ""]),
    additional_data: JSON.stringify(additional),
    metadata: JSON.stringify({ source: "registration", form_version: 3, device: "tablet-2" }),
    photo_url: null,
    image_timestamp: null,
    is_deleted: 0,
    deleted_at: null,
    created_at: now - Math.floor(r() * 3e10),
    updated_at: now,
    government_id: `J${Math.floor(r() * 1e9)}`,
    external_patient_id: null,
    primary_clinic_id: clinicId,
    last_modified_by: null,
    last_modified: now,
    server_created_at: now,
  };
}

/** An event row (a filled form) for a patient. */
export function benchEvent(
  r: () => number,
  n: number,
  patientId: string,
  now: number,
  userId: string,
): Record<string, unknown> {
  const answers = [];
  const fields = 5 + Math.floor(r() * 4);
  for (let i = 0; i < fields; i++) {
    answers.push({
      fieldId: `f${i}`,
      name: pick(r, WORDS),
      inputType: pick(r, ["text", "number", "select"]),
      value: i % 3 === 0 ? Math.floor(r() * 200) : sentence(r, 3 + Math.floor(r() * 7)),
    });
  }
  return {
    id: benchId(2, n),
    patient_id: patientId,
    form_id: benchId(3, Math.floor(r() * 12)),
    visit_id: benchId(4, Math.floor(n / 2)),
    event_type: pick(r, ["Vitals", "Consultation", "Prescription", "Lab request"]),
    form_data: JSON.stringify(answers),
    metadata: JSON.stringify({ form_version: 2 }),
    is_deleted: 0,
    deleted_at: null,
    created_at: now - Math.floor(r() * 3e10),
    updated_at: now,
    recorded_by_user_id: userId,
    last_modified: now,
    server_created_at: now,
  };
}

if (import.meta.main) {
  // Prints the average JSON size of generated rows (to keep them near 1.1 KB).
  const r = rng(1);
  let p = 0;
  let e = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    p += JSON.stringify(benchPatient(r, i, Date.now(), "c")).length;
    e += JSON.stringify(benchEvent(r, i, benchId(1, i), Date.now(), "u")).length;
  }
  Deno.stdout.writeSync(
    new TextEncoder().encode(
      `patient ${Math.round(p / n)} B, event ${Math.round(e / n)} B, mix ${
        Math.round((p + 2 * e) / (3 * n))
      } B\n`,
    ),
  );
}
