/**
 * Browser-test helpers: Debian Chromium driven by playwright-core (no browser
 * download), a hub with a cheap KDF and its admin server, a browser session
 * through a one-time launch code, and screenshots into tests/screenshots/.
 */
import bcrypt from "bcryptjs";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import type { CloudDouble } from "../cloud_double.ts";
import { type Logger, memoryLogger } from "../../core/mod.ts";
import { chromium as chromiumProgram } from "../_programs.ts";
import { Hub, type HubOptions } from "../../hub/mod.ts";
import { type AdminServer, type AdminServerOptions, startAdminServer } from "../../ui/mod.ts";

/** Debian's Chromium, found on PATH (tests are skipped, saying why, where it is missing). */
const CHROMIUM_PROGRAM = chromiumProgram();
/** Where Chromium is (Debian puts it at /usr/bin/chromium). */
export const CHROMIUM = CHROMIUM_PROGRAM.path ?? "/usr/bin/chromium";
/** Screen size the operator's page must be readable at. */
export const VIEWPORT = { width: 1024, height: 600 };
/** Where screenshots go (ignored by git). */
export const SCREENSHOTS = new URL("../screenshots/", import.meta.url).pathname;

/** True when Chromium is installed (CI installs it; elsewhere the tests are skipped without it). */
export const HAS_CHROMIUM = CHROMIUM_PROGRAM.path !== null;

/**
 * `deno test` options of a browser test named `name`: skipped where Chromium is
 * missing (except under CI), with the reason appended to the name.
 */
export function browserTest(name: string) {
  return {
    name: CHROMIUM_PROGRAM.name(name),
    sanitizeOps: false,
    sanitizeResources: false,
    ignore: CHROMIUM_PROGRAM.ignore,
  } as const;
}

const TEST_LOG = memoryLogger({ max: 5000 });
/** The logger the fixture hubs are handed (kept off stderr). */
export const testLogger: Logger = TEST_LOG.logger;
/** Log lines of the hubs while the tests run. */
export const logLines: string[] = TEST_LOG.lines;

/** A headless Chromium with a fresh profile. */
export interface Browser extends AsyncDisposable {
  context: BrowserContext;
  page: Page;
  /** Problems the page reported (console errors, uncaught exceptions, CSP violations). */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Launches Chromium headless with the project's flags and a fresh user-data dir. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "hub-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORT,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // Fail a missing element in 10 s rather than playwright's 30 s.
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") pageErrors.push(`console: ${msg.text()}`);
  });
  const close = async () => {
    await context.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  return { context, page, pageErrors, close, [Symbol.asyncDispose]: close };
}

/** A hub (not set up) with its admin server. */
export interface UiHub extends AsyncDisposable {
  hub: Hub;
  admin: AdminServer;
  dataDir: string;
  close(): Promise<void>;
}

/** Builds a hub on a fresh folder with a cheap KDF, LAN on 127.0.0.1, and starts its admin server. */
export async function startUiHub(
  options: { hub?: Partial<HubOptions>; admin?: Partial<AdminServerOptions> } = {},
): Promise<UiHub> {
  const dataDir = await Deno.makeTempDir({ prefix: "hub-ui-" });
  const hub = new Hub({
    dataDir,
    version: "test",
    lan: { host: "127.0.0.1", port: 0 },
    vault: { iterations: 1000, allowWeakKdfForTests: true },
    logger: testLogger,
    ...options.hub,
  });
  await hub.init();
  const admin = await startAdminServer(hub, { port: 0, ...options.admin });
  const close = async () => {
    await admin.close().catch(() => {});
    await hub.shutdown().catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  return { hub, admin, dataDir, close, [Symbol.asyncDispose]: close };
}

/** On the first-run screen: sets `passphrase`, skips the cloud, and waits for the dashboard. */
export async function completeFirstRun(page: Page, passphrase: string): Promise<void> {
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Passphrase again").fill(passphrase);
  await page.getByLabel(/I understand/).check();
  await page.getByRole("button", { name: "Set up the hub" }).click();
  await page.getByRole("button", { name: "Skip for now" }).click();
  await page.getByTestId("firstrun-done").click();
  await page.getByTestId("dashboard").waitFor();
}

/** Opens the admin page with a fresh launch code (as main.ts's private file does). */
export async function openAdmin(page: Page, admin: AdminServer): Promise<void> {
  await page.goto(`${admin.url}/launch?code=${admin.guard.newLaunchCode()}`);
}

/**
 * Writes a screenshot of the whole page to tests/screenshots/<name>.png, and the
 * same screen at each of {@link SCREEN_SIZES} (<name>-<w>x<h>.png); returns the first path.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = await shoot(page, name);
  await screenshotSizes(page, name);
  return path;
}

async function shoot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  // Let transitions and pending renders settle so the picture shows a steady state,
  // from the top (a sticky header mid-page makes a confusing full-page picture).
  await page.waitForTimeout(150);
  await page.evaluate("window.scrollTo(0, 0)");
  await page.waitForFunction("window.scrollY === 0");
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  return path;
}

/** The screen sizes every screen is pictured at (a laptop and a small netbook). */
export const SCREEN_SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 640 }] as const;

/**
 * Pictures the page at each of {@link SCREEN_SIZES} into
 * tests/screenshots/<name>-<width>x<height>.png, then restores the viewport.
 */
export async function screenshotSizes(page: Page, name: string): Promise<string[]> {
  const before = page.viewportSize() ?? VIEWPORT;
  const paths: string[] = [];
  for (const size of SCREEN_SIZES) {
    await page.setViewportSize(size);
    paths.push(await shoot(page, `${name}-${size.width}x${size.height}`));
  }
  await page.setViewportSize(before);
  return paths;
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function until<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/**
 * Seeds a clinic, a nurse (bcrypt hash, cost 4) and her permission row (every
 * clinical flag but the deletions and admin) in the cloud double.
 */
export function seedCloud(
  cloud: CloudDouble,
  seed: {
    clinic: string;
    nurse: { id: string; email: string; password: string };
    permissionId: string;
  },
): void {
  const now = Date.now();
  const { clinic, nurse } = seed;
  cloud.insert("clinics", { id: clinic, name: "Al Amal Clinic", created_at: now, updated_at: now });
  cloud.insert("users", {
    id: nurse.id,
    clinic_id: clinic,
    name: "Nurse Amina",
    role: "provider",
    email: nurse.email,
    hashed_password: bcrypt.hashSync(nurse.password, 4),
    created_at: now,
    updated_at: now,
  });
  cloud.insert("user_clinic_permissions", {
    id: seed.permissionId,
    user_id: nurse.id,
    clinic_id: clinic,
    can_register_patients: true,
    can_view_history: true,
    can_edit_records: true,
    can_delete_records: true,
    is_clinic_admin: false,
    can_edit_other_provider_event: false,
    can_download_patient_reports: false,
    can_prescribe_medications: true,
    can_dispense_medications: true,
    can_delete_patient_visits: false,
    can_delete_patient_records: false,
    created_at: now,
    updated_at: now,
  });
}

/** A new patient as the phone pushes it (WatermelonDB adds `_status` and `_changed`). */
export function phonePatient(
  clinic: string,
  updatedAt: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    given_name: "Layla",
    surname: "Haddad",
    date_of_birth: "1990-04-02",
    sex: "female",
    citizenship: "Jordan",
    hometown: "Irbid",
    phone: "+962790000000",
    camp: "",
    additional_data: {},
    metadata: {},
    government_id: null,
    external_patient_id: null,
    primary_clinic_id: clinic,
    photo_url: null,
    is_deleted: false,
    created_at: updatedAt,
    updated_at: updatedAt,
    _status: "created",
    _changed: "",
    ...extra,
  };
}
