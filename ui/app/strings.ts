/**
 * Every word the operator's page shows, in one place for translation. Plain
 * strings, or small functions where a number or name goes inside the sentence.
 * No DOM here: scripts/bundle_ui.ts also reads it for the HTML shell.
 */

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The page's strings (English). */
export const S = {
  lang: "en",
  appName: "Local Sync Hub",
  loading: "Loading…",
  noScript: "This page needs JavaScript. Open it in a normal web browser.",
  skipToContent: "Skip to content",

  // Session and connection
  noSession: "Open this page from the hub's launch address",
  noSessionHelp:
    "When the hub starts it prints a one-time address (in its window, terminal or service log), " +
    "like http://127.0.0.1:4002/launch?code=…. Open that address in a browser on this computer. " +
    "It works once: if it was already used, start the hub again for a new one.",
  signInTitle: "Enter the passphrase",
  signInIntro:
    "The hub was restarted, or this page's session ended. Enter the passphrase to continue.",
  connectionLost: "Connection to the hub lost. Reconnecting…",
  hubNotAnswering: "The hub is not answering. Is it still running?",
  retry: "Try again",

  // Common
  cancel: "Cancel",
  close: "Close",
  continue: "Continue",
  back: "Back",
  yes: "Yes",
  no: "No",
  show: "Show",
  hide: "Hide",
  working: "Working…",
  never: "never",
  none: "none",
  unknownError: "Something went wrong. Try again.",
  waitSeconds: (s: number) => `Please wait ${s} s before trying again.`,
  secondsElapsed: (s: number) => `${s} s`,

  // Passphrase
  passphrase: "Passphrase",
  passphraseRepeat: "Passphrase again",
  passphraseCurrent: "Current passphrase",
  passphraseNew: "New passphrase",
  passphraseNewRepeat: "New passphrase again",
  passphraseHint:
    "At least 12 characters. A few unrelated words are easy to remember and hard to guess.",
  passphraseTooShort: "The passphrase must have at least 12 characters.",
  passphraseMismatch: "The two passphrases are different.",
  showPassphrase: "Show passphrase",
  strengthLabel: "Strength",
  strength: ["Too short", "Weak", "Fair", "Good", "Strong"] as readonly string[],

  // First run
  setupTitle: "Set up this hub",
  setupStep: (n: number, of: number) => `Step ${n} of ${of}`,
  setupIntro:
    "This computer will keep the clinic's records for the phones and send them to the cloud. " +
    "First choose a passphrase: it locks the records on this computer.",
  setupWarningTitle: "Write the passphrase down and keep it safe.",
  setupWarning:
    "It cannot be recovered and there is no backdoor: nobody, not even the Hikma Health team, " +
    "can open this hub without it. If it is lost, the data on this computer must be erased.",
  setupConfirm: "I understand that the passphrase cannot be recovered.",
  setupConfirmMissing: "Tick the box above to go on.",
  setupButton: "Set up the hub",
  setupDone: "The hub is set up and unlocked.",

  // Cloud link
  cloudTitle: "Link to the cloud",
  cloudIntro:
    "Enter the address of your Hikma Health server and this hub's API key (your administrator " +
    "creates it in the server's admin pages). You can also do this later.",
  cloudUrl: "Cloud server address",
  cloudUrlPlaceholder: "https://clinic.example.org",
  cloudApiKey: "Hub API key",
  cloudApiKeyHint: "It is hh_ followed by 64 characters, each a digit 0–9 or a letter a–f.",
  cloudAllowInsecure:
    "Allow plain http:// (only for a server on this clinic's own network, never over the internet)",
  cloudLink: "Link",
  cloudSkip: "Skip for now",
  cloudLinked: (name: string, clinics: number) =>
    `Linked as “${name}”, for ${plural(clinics, "clinic", "clinics")}.`,
  cloudRelink: "Link to another cloud or key",
  cloudNotLinked: "This hub is not linked to a cloud yet; records stay on this computer.",

  // Pairing
  pairTitle: "Pair a phone or tablet",
  pairSteps: [
    "Connect the phone to the same Wi-Fi network as this computer.",
    "Open the Hikma Health app and go to the screen that scans a sync hub's code.",
    "Scan this code, holding the phone at arm's length.",
    "Log in on the phone with your usual e-mail and password, then sync.",
  ] as readonly string[],
  pairQrAlt: "QR code to pair a phone with this hub",
  pairAddress: "Address the phone will use",
  pairAddressHelp:
    "This computer has several network addresses. Choose the one on the clinic's Wi-Fi.",
  pairHubId: "Hub id",
  pairFingerprint: "Key fingerprint",
  pairFingerprintHelp:
    "If in doubt, compare it with the fingerprint the phone or your administrator shows: " +
    "the same letters mean the phone talks to this hub.",
  pairServerStopped: "The phone server is stopped, so phones cannot pair or sync.",
  pairShowPayload: "What the code contains",
  pairDone: "Go to the dashboard",

  // Unlock
  unlockTitle: "Unlock the hub",
  unlockIntro: "The hub is locked: phones cannot sync until it is unlocked.",
  unlockButton: "Unlock",
  unlockWrong: "Wrong passphrase.",
  unlockAutoLocked: (minutes: number) =>
    `The hub locked itself after ${plural(minutes, "minute", "minutes")} without activity.`,
  forgotLink: "Forgot the passphrase?",

  // Forgot / reset
  resetTitle: "Forgot the passphrase",
  resetExplain: [
    "Without the passphrase, the records on this computer cannot be opened by anyone.",
    "The only way forward is to erase this hub and set it up again with a new passphrase.",
    "Records that already reached the cloud come back after you link the hub again.",
    "Changes made on phones that have not reached the cloud yet are lost for good.",
    "Every phone must be paired again.",
  ] as readonly string[],
  resetTypeLabel: "To erase this hub, type RESET in capital letters",
  resetWord: "RESET",
  resetButton: "Erase this hub",

  // Navigation
  navDashboard: "Dashboard",
  navPair: "Pair a device",
  navMaintenance: "Maintenance",
  lock: "Lock",
  hubLabel: (name: string) => `Hub “${name}”`,
  version: (v: string) => `Version ${v}`,

  // Health line
  healthLastSync: (age: string) => `Last good sync with the cloud ${age}`,
  healthNeverSynced: "Never synced with the cloud",
  healthNotLinked: "Not linked to a cloud: records stay on this computer",
  healthAuth: "⚠ The cloud refused the hub's key: nothing reaches the cloud",
  healthOffline: "⚠ Cloud unreachable",
  healthOfflineSince: (at: string, age: string) => `⚠ Cloud unreachable since ${at} (${age})`,
  healthRateLimited: "⚠ The cloud asked the hub to slow down",
  healthError: "⚠ Last sync with the cloud failed",
  healthConflicts: (n: number) => `⚠ ${plural(n, "conflict", "conflicts")} to decide`,
  healthWaiting: (n: number) => `${plural(n, "change", "changes")} waiting for the cloud`,
  healthWaitingAge: (n: number, age: string) =>
    `${plural(n, "change", "changes")} waiting for the cloud, the oldest since ${age}`,
  healthSyncing: "Syncing with the cloud…",
  healthServerStopped: "⚠ Phone server stopped: phones cannot sync",
  healthServerFailed: "⚠ Phone server could not start: phones cannot sync",
  healthFixServer: "Start it",
  healthFixLink: "Link to a cloud",
  healthFixKey: "Enter a new key",
  healthFixOffline: "What to check",
  healthFixError: "Details",
  healthFixConflicts: "Decide",

  // Server card
  serverTitle: "Phone server",
  serverRunning: "Running: phones on the clinic network can sync.",
  serverStopped: "Stopped: phones cannot sync.",
  serverUrls: "Addresses",
  serverSynced: (n: number) =>
    `${plural(n, "phone", "phones")} logged in and synced in the last 15 minutes`,
  serverStart: "Start server",
  serverStop: "Stop server",
  serverStopConfirm: "Stop the phone server? Phones cannot sync until it is started again.",
  serverInUseTitle: "The port is already in use",
  serverInUseHelp:
    "Another program (or another copy of the hub) is using the port the phones connect to. " +
    "Close the other program, or restart the hub with a different port (--port), then press Start.",

  // Sync card
  syncTitle: "Cloud",
  syncNow: "Sync with cloud now",
  syncRunning: (s: number) => `Syncing… ${s} s`,
  syncResult: (pulled: number, pushed: number, ms: number) =>
    `Done in ${(ms / 1000).toFixed(1)} s: ${plural(pulled, "record", "records")} received, ` +
    `${plural(pushed, "record", "records")} sent.`,
  syncFailed: (msg: string) => `Sync failed: ${msg}`,
  syncNextAttempt: (when: string) => `Next automatic sync ${when}`,
  syncLastError: "Last error",

  // Counts
  countsTitle: "Records on this hub",
  countsTable: "Table",
  countsRows: "Records",
  countsDeleted: "Deleted",
  countsEmpty: "No records yet.",
  countsShowEmpty: "Show empty tables",
  tableNames: {
    patients: "Patients",
    users: "Users",
    clinics: "Clinics",
    events: "Events",
    event_forms: "Event forms",
    visits: "Visits",
    registration_forms: "Registration forms",
    appointments: "Appointments",
    patient_additional_attributes: "Patient attributes",
    prescriptions: "Prescriptions",
    patient_vitals: "Vital signs",
    user_clinic_permissions: "Permissions",
    app_config: "App settings",
    patient_problems: "Problems",
    clinic_departments: "Departments",
    drug_catalogue: "Drug catalogue",
    clinic_inventory: "Inventory",
    prescription_items: "Prescription items",
    dispensing_records: "Dispensing records",
  } as Readonly<Record<string, string>>,

  // Clinics
  clinicsTitle: "Authorised clinics",
  clinicsNone: "No clinics yet: link the hub to the cloud.",
  clinicUnnamed: "(name arrives with the next sync)",

  // Devices
  devicesTitle: "Paired devices",
  devicesNone: "No phone has connected yet.",
  deviceName: "Device",
  deviceLastSeen: "Last seen",
  deviceLastSync: "Last sync",
  deviceFromPhone: "Records from the phone",
  deviceToPhone: "Records to the phone",
  deviceStatus: "Status",
  deviceRevoked: "Revoked for good",
  deviceSynced: "Synced",
  deviceNeverSynced: "Not synced yet (no log-in)",
  deviceActions: "Actions",
  deviceRevoke: "Revoke",
  deviceRevokeLabel: (name: string) => `Revoke ${name}`,
  deviceRevokeConfirm: (name: string) =>
    `Revoke ${name}? This is permanent: it can never sync with this hub again, not even after ` +
    "pairing again. Use it for a lost or stolen phone. Changes on it that have not synced yet " +
    "stay on it.",
  deviceRemove: "Remove from list",
  deviceRemoveLabel: (name: string) => `Remove ${name} from the list`,
  deviceUnnamed: "Unnamed device",
  deviceCatchingUp: (name: string, n: number) =>
    `${name}: ${n.toLocaleString("en")} records still to download — press Sync on it again`,
  deviceWaiting: (n: number) => `${n.toLocaleString("en")} still to download`,
  healthFixDownloading: "Which ones",
  healthCatchingUp: (n: number) =>
    n === 1 ? "1 device still downloading" : `${n} devices still downloading`,

  // Activity chart
  activityTitle: "Sync activity, last 24 hours",
  activityNone: "No syncs in the last 24 hours.",
  activityPull: "Phones receiving",
  activityPush: "Phones sending",
  activitySummary: (pulls: number, pushes: number) =>
    `${plural(pulls, "receive", "receives")} and ${plural(pushes, "send", "sends")} in 24 hours.`,
  activityHourLabel: (hour: string, pulls: number, pushes: number) =>
    `${hour}: ${pulls} receiving, ${pushes} sending`,
  activityNow: "now",
  activityAgo: (h: number) => `−${h} h`,

  // Conflicts
  conflictsTitle: "Conflicts to decide",
  conflictsHelp:
    "Two versions of a record disagreed. The newer one was kept everywhere; the older one is " +
    "kept here so nothing is lost. Compare them, then keep the newer one or restore the older one.",
  conflictsNone: "No conflicts to decide.",
  conflictRecordTitle: (kind: string, who: string | null, title: string | null) =>
    [kind, [who, title].filter(Boolean).join(", ")].filter(Boolean).join(": "),
  conflictUnnamed: "(record without a name)",
  /** One record of a table, where the table's name is not that ("Patients" → "Patient"). */
  recordKinds: {
    patients: "Patient",
    visits: "Visit",
    events: "Event",
    appointments: "Appointment",
    prescriptions: "Prescription",
    patient_vitals: "Vital signs",
    patient_problems: "Problem",
    patient_additional_attributes: "Patient attribute",
    prescription_items: "Prescription item",
    dispensing_records: "Dispensing record",
    clinic_inventory: "Inventory record",
  } as Readonly<Record<string, string>>,
  conflictFound: (when: string) => `Found ${when}`,
  conflictField: "Field",
  conflictKept: "Kept (newer)",
  conflictOlder: "Older version",
  conflictChanged: "Changed",
  conflictMadeBy: "Made by",
  conflictNoDifference: "The two versions hold the same content; only their dates differ.",
  conflictGone:
    "This record is not on the hub now (it was deleted, or the data was cleared and has not come " +
    "back from the cloud yet), so the versions cannot be compared or restored.",
  conflictCloudManaged: "Records of this kind are changed in the cloud, not here.",
  conflictRefused: (reason: string) =>
    `A phone sent this version, but its user may not write it, so the hub did not take it ` +
    `(${reason.replace(/^refused: /, "")}). Restoring it accepts it.`,
  conflictRefusedNew: "The hub has never held this record: only the refused version exists.",
  conflictKeepNewer: "Keep the newer one",
  conflictRestoreOlder: "Restore the older one",
  conflictRestoreConfirm: (name: string) =>
    `Restore the older version of ${name}? It becomes the current version on this hub, ` +
    "and goes to the phones and the cloud like any other change.",
  conflictEmptyValue: "—",
  conflictViaPhone: (name: string) => `phone “${name}”`,
  conflictViaCloud: "the cloud",
  conflictViaHub: "a phone or this hub (not yet sent to the cloud)",
  conflictViaUnknown: "an earlier sync",
  conflictByUser: (via: string, user: string) => `${via}, by ${user}`,

  // Maintenance
  maintenanceTitle: "Maintenance",
  changePassTitle: "Change the passphrase",
  changePassButton: "Change passphrase",
  changePassDone: "The passphrase was changed. Use the new one from now on.",
  rotateTitle: "Change the database key",
  rotateHelp:
    "Re-encrypts all records on this computer under a new key. Phones keep syncing afterwards. " +
    "It can take a while with many records; do not turn the computer off meanwhile.",
  rotateButton: "Change the database key",
  rotateConfirm: "Re-encrypt the database now?",
  rotateRunning: (s: number) => `Re-encrypting… ${s} s`,
  rotateDone: (ms: number) => `Done: the database has a new key (${(ms / 1000).toFixed(1)} s).`,
  clearTitle: "Clear the records on this computer",
  clearHelp:
    "Deletes the clinic records kept on this hub. They come back from the cloud at the next sync. " +
    "Paired phones and settings are kept.",
  clearPendingWarning: (n: number) =>
    `⚠ ${plural(n, "change has", "changes have")} not reached the cloud yet. ` +
    `Clearing now would lose ${n === 1 ? "it" : "them"}: sync with the cloud first.`,
  clearForce: "Clear anyway and lose those changes",
  clearButton: "Clear records",
  clearRefused: (n: number) =>
    `Not cleared: ${plural(n, "change is", "changes are")} still waiting for the cloud.`,
  clearDone: (n: number) => `Cleared ${plural(n, "record", "records")}.`,
  lockTitle: "Lock the hub",
  lockHelp: "Locks the records and forgets the keys until someone enters the passphrase. " +
    "Phones cannot sync while the hub is locked.",
  lockButton: "Lock now",
  autoLockTitle: "Lock automatically",
  autoLockHelp:
    "Lock the hub when nobody has used this page for a while. Phones cannot sync while it is " +
    "locked, so use this only if someone is there to unlock it.",
  autoLockLabel: "Lock after",
  autoLockOff: "Never",
  autoLockMinutes: (m: number) =>
    m >= 60 ? plural(m / 60, "hour", "hours") : plural(m, "minute", "minutes"),
  autoLockSaved: "Saved.",

  // Updates
  updateAvailable: (v: string) => `Version ${v} of the hub is available.`,
  updateInstall: "Install and restart",
  updateNotes: "What is new",
  updateDownloading: (pct: number | null) =>
    pct === null ? "Downloading the update…" : `Downloading the update… ${pct} %`,
  updateVerifying: "Checking the update's signature…",
  updateInstalling: "Installing; the hub restarts in a moment…",
  updateFailed: (msg: string) => `The update did not work: ${msg}`,
  updateRetry: "Check again",
  updateCannotInstall:
    "Install it by copying the new program file (this copy cannot replace itself).",

  // Time
  justNow: "just now",
  secondsAgo: (n: number) => `${n} s ago`,
  minutesAgo: (n: number) => `${plural(n, "minute", "minutes")} ago`,
  hoursAgo: (n: number) => `${plural(n, "hour", "hours")} ago`,
  daysAgo: (n: number) => `${plural(n, "day", "days")} ago`,
  inSeconds: (n: number) => `in ${n} s`,
  inMinutes: (n: number) => `in ${plural(n, "minute", "minutes")}`,
  inHours: (n: number) => `in ${plural(n, "hour", "hours")}`,
} as const;
