/**
 * Audit actions that are not REST mutations (those are audited as `METHOD /path` by the REST edge). Each
 * is written by the code that does the thing, in its transaction when it has one.
 */
export const auditActions = {
  /** A request with a missing, malformed, unknown, expired or revoked token (rate-limited per IP). */
  authFailed: 'auth.failed',
  /** One row per IP and minute: how many failed authentications were not recorded one by one. */
  authFailedSummary: 'auth.failed_suppressed',
  /** An operator token was used (any request, reads included). */
  operatorTokenUsed: 'token.operator_used',
  consoleOpened: 'server.console_opened',
  logRead: 'server.log_read',
  diskExported: 'server.disk_exported',
  snapshotRestored: 'server.snapshot_restored',
} as const;

export type AuditAction = (typeof auditActions)[keyof typeof auditActions];
