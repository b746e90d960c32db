/** Building blocks every part of the hub may use: the error type, the logger, durable files, encodings. */
export { HubError, type HubErrorReply, LOCKED_MESSAGE, lockedError } from "./errors.ts";
export {
  isSecretField,
  levelFromEnv,
  Logger,
  type LoggerOptions,
  type LogLevel,
  type LogSink,
  memoryLogger,
  stderrSink,
} from "./log.ts";
export {
  type BusEvent,
  type Cursor,
  DEFAULT_EVENT_CAPACITY,
  EventBus,
  type EventBusOptions,
  type EventsSince,
  formatCursor,
  type HubEventMap,
  type HubEventType,
  parseCursor,
  type Publish,
} from "./events.ts";
export { dirname, exists, isNoSpace, join, syncDir, writeFileDurable } from "./fsutil.ts";
export {
  fromB64,
  fromB64u,
  fromHex,
  sha256Hex,
  timingSafeEqual,
  toB64,
  toB64u,
  toHex,
  wipe,
} from "./bytes.ts";
export { LogGate, requestUrl } from "./request.ts";
