// Bounded polling: the only way testbed code waits for a condition (never a fixed sleep).

import { sleep } from "./exec";

export interface WaitOptions {
  /** Give up after this long (the error names `what` and the last value or error seen). */
  readonly timeoutMs: number;
  /** What is being waited for, e.g. "pve2 to leave pve1's membership". */
  readonly what: string;
  /** Pause between probes; default 100 ms. */
  readonly intervalMs?: number;
}

/** Throw this from a probe to stop waiting at once (e.g. the daemon being waited for has exited). */
export class GiveUp extends Error {}

export type Truthy<T> = Exclude<T, false | null | undefined | 0 | "">;

/** Poll `probe` until it returns a truthy value, which is returned. A probe that throws counts as "not yet"
 *  (e.g. corosync not answering while it starts) unless it throws GiveUp, which ends the wait at once; on
 *  timeout the last error or value is in the message. */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions): Promise<Truthy<T>> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 100;
  let last: string = "(never probed)";
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as Truthy<T>;
      last = `last value: ${JSON.stringify(v)}`;
    } catch (e) {
      if (e instanceof GiveUp) throw new Error(`gave up waiting for ${opts.what}: ${e.message}`);
      last = `last error: ${e instanceof Error ? e.message : String(e)}`;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= opts.timeoutMs) {
      throw new Error(`timed out after ${elapsed} ms waiting for ${opts.what}; ${last}`);
    }
    await sleep(Math.min(interval, Math.max(0, opts.timeoutMs - elapsed)));
  }
}
