/**
 * Failed authentications are audited, but a password-spraying client must not flood the log: per source
 * IP, at most `limitPerWindow` rows per window (a minute), then nothing until the window ends, when one
 * summary row says how many more failures there were. Pure: the state goes in and comes out.
 */
export interface FailedAuthWindow {
  startMs: number;
  recorded: number;
  suppressed: number;
}

export interface FailedAuthLimitState {
  windows: ReadonlyMap<string, FailedAuthWindow>;
}

export interface FailedAuthLimit {
  limitPerWindow: number;
  windowMs: number;
  /** Beyond this many IPs tracked at once, new IPs share one window under '*' (bounded memory). */
  maxTrackedIps: number;
}

export const defaultFailedAuthLimit: FailedAuthLimit = { limitPerWindow: 10, windowMs: 60_000, maxTrackedIps: 10_000 };

/** A window that ended with failures left unrecorded: one summary row for it. */
export interface FailedAuthSummary {
  sourceIp: string;
  windowStartMs: number;
  windowEndMs: number;
  suppressed: number;
}

export const emptyFailedAuthState: FailedAuthLimitState = { windows: new Map() };

/** Windows that have ended by `nowMs`: their summaries (when something was suppressed), and the rest kept. */
export function closeEndedWindows(
  state: FailedAuthLimitState,
  nowMs: number,
  limit: FailedAuthLimit,
): { state: FailedAuthLimitState; summaries: FailedAuthSummary[] } {
  const windows = new Map<string, FailedAuthWindow>();
  const summaries: FailedAuthSummary[] = [];
  for (const [ip, window] of state.windows) {
    const endMs = window.startMs + limit.windowMs;
    if (nowMs < endMs) windows.set(ip, window);
    else if (window.suppressed > 0)
      summaries.push({
        sourceIp: ip,
        windowStartMs: window.startMs,
        windowEndMs: endMs,
        suppressed: window.suppressed,
      });
  }
  return { state: { windows }, summaries };
}

/** One failed authentication from `sourceIp` at `nowMs`: record a row, or count it for the summary. */
export function admitFailedAuth(
  state: FailedAuthLimitState,
  sourceIp: string,
  nowMs: number,
  limit: FailedAuthLimit,
): { state: FailedAuthLimitState; record: boolean; summaries: FailedAuthSummary[] } {
  const closed = closeEndedWindows(state, nowMs, limit);
  const windows = new Map(closed.state.windows);
  const key = windows.has(sourceIp) || windows.size < limit.maxTrackedIps ? sourceIp : '*';
  const window = windows.get(key) ?? { startMs: nowMs, recorded: 0, suppressed: 0 };
  const record = window.recorded < limit.limitPerWindow;
  windows.set(
    key,
    record ? { ...window, recorded: window.recorded + 1 } : { ...window, suppressed: window.suppressed + 1 },
  );
  return { state: { windows }, record, summaries: closed.summaries };
}
