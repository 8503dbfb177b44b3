import type { Clock } from '../core/index.ts';
import type { AuditLog } from './log.ts';
import { auditActions } from './actions.ts';
import {
  admitFailedAuth,
  closeEndedWindows,
  defaultFailedAuthLimit,
  emptyFailedAuthState,
  type FailedAuthLimit,
  type FailedAuthSummary,
} from './failed-auth-limit.ts';

export interface FailedAuthAttempt {
  sourceIp: string;
  /** Why it failed: missing, malformed, unknown, expired, revoked… (never the token itself). */
  reason: string;
  requestId: string | null;
  userAgent: string | null;
  /** The token's public prefix when one was presented, to tell attempts apart. */
  tokenPrefix?: string | null;
}

export interface FailedAuthRecorder {
  /** Audits a failed authentication, within the per-IP limit. */
  record(attempt: FailedAuthAttempt): Promise<void>;
  /** Writes the summaries of windows that have ended (call it from housekeeping). */
  flush(): Promise<void>;
}

/** The impure shell around failed-auth-limit.ts: its state lives in this object (one per process). */
export function createFailedAuthRecorder(deps: {
  audit: AuditLog;
  clock: Clock;
  limit?: Partial<FailedAuthLimit>;
}): FailedAuthRecorder {
  const limit = { ...defaultFailedAuthLimit, ...deps.limit };
  let state = emptyFailedAuthState;

  const writeSummaries = async (summaries: FailedAuthSummary[]) => {
    for (const s of summaries)
      await deps.audit.append(null, {
        projectId: null,
        actorUserId: null,
        actorTokenId: null,
        action: auditActions.authFailedSummary,
        resourceType: null,
        resourceId: null,
        outcome: 'failure',
        statusCode: 401,
        requestId: null,
        sourceIp: s.sourceIp === '*' ? null : s.sourceIp,
        userAgent: null,
        details: {
          suppressed: s.suppressed,
          window_start: new Date(s.windowStartMs).toISOString(),
          window_end: new Date(s.windowEndMs).toISOString(),
          ...(s.sourceIp === '*' ? { note: 'too many source IPs at once: counted together' } : {}),
        },
      });
  };

  return {
    async record(attempt) {
      const outcome = admitFailedAuth(state, attempt.sourceIp, deps.clock.nowMs(), limit);
      state = outcome.state;
      await writeSummaries(outcome.summaries);
      if (!outcome.record) return;
      await deps.audit.append(null, {
        projectId: null,
        actorUserId: null,
        actorTokenId: null,
        action: auditActions.authFailed,
        resourceType: null,
        resourceId: null,
        outcome: 'failure',
        statusCode: 401,
        requestId: attempt.requestId,
        sourceIp: attempt.sourceIp,
        userAgent: attempt.userAgent,
        details: { reason: attempt.reason, ...(attempt.tokenPrefix ? { token_prefix: attempt.tokenPrefix } : {}) },
      });
    },
    async flush() {
      const closed = closeEndedWindows(state, deps.clock.nowMs(), limit);
      state = closed.state;
      await writeSummaries(closed.summaries);
    },
  };
}
