/// <reference lib="dom" />
/** Small hooks the screens share: running an API call, elapsed time, countdowns, focus. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { S } from "./strings.ts";

/** State of one operator action (a button that calls the hub). */
export interface Action<A extends unknown[], T> {
  busy: boolean;
  error: ApiError | null;
  result: T | null;
  /** Runs the action; resolves to its result, or undefined when it failed. */
  run: (...args: A) => Promise<T | undefined>;
  reset: () => void;
}

/** Wraps an async call with busy, error and result state. */
export function useAction<A extends unknown[], T>(fn: (...args: A) => Promise<T>): Action<A, T> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<T | null>(null);
  const alive = useRef(true);
  useEffect(() => () => {
    alive.current = false;
  }, []);
  return {
    busy,
    error,
    result,
    reset: () => {
      setError(null);
      setResult(null);
    },
    run: async (...args: A) => {
      setBusy(true);
      setError(null);
      setResult(null);
      try {
        const r = await fn(...args);
        if (alive.current) setResult(r);
        return r;
      } catch (err) {
        if (alive.current) {
          setError(err instanceof ApiError ? err : new ApiError(0, S.unknownError));
        }
        return undefined;
      } finally {
        if (alive.current) setBusy(false);
      }
    },
  };
}

/** The message to show for a failed call. */
export function errorText(err: ApiError): string {
  if (err.status === 0) return S.hubNotAnswering;
  return err.message || S.unknownError;
}

/** Whole seconds since `running` became true (0 while false). */
export function useElapsed(running: boolean): number {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (!running) return;
    const t0 = Date.now();
    setSeconds(0);
    const timer = setInterval(() => setSeconds(Math.floor((Date.now() - t0) / 1000)), 250);
    return () => clearInterval(timer);
  }, [running]);
  return running ? seconds : 0;
}

/** Whole seconds left until `until` (epoch ms), counting down; 0 when past or null. */
export function useCountdown(until: number | null): number {
  const left = () => until === null ? 0 : Math.max(0, Math.ceil((until - Date.now()) / 1000));
  const [seconds, setSeconds] = useState(left);
  useEffect(() => {
    setSeconds(left());
    if (until === null) return;
    const timer = setInterval(() => {
      const l = left();
      setSeconds(l);
      if (l === 0) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [until]);
  return seconds;
}

/** A ref whose element gets the keyboard focus when the component appears. */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}

/** The value of an input event's target. */
export function inputValue(e: Event): string {
  return (e.currentTarget as HTMLInputElement).value;
}
