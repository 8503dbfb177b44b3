/** Row types of identity's tables shared by the replicas (src/db/migrations/008_replicas.ts). */

/** A console ticket: single use, short-lived; only its SHA-256 is stored. */
export interface ConsoleTicketsTable {
  ticket_hash: string;
  server_id: string;
  token_id: string;
  /** The principal that asked, as JSON (its token is checked again when the ticket is used). */
  principal: string;
  read_only: number;
  expires_at_ms: number;
}

/** Requests counted per caller (token, or client address) and fixed window. */
export interface RateLimitWindowsTable {
  key: string;
  window_start_ms: number;
  count: number;
}

/** A user's secrets: password (PHC scrypt string), TOTP (sealed in the key store), its last step used. */
export interface UserCredentialsTable {
  user_id: string;
  password_hash: string | null;
  password_changed_at: string | null;
  totp_secret_id: string | null;
  /** Enrolment begun, not yet confirmed by a code. */
  totp_pending_secret_id: string | null;
  /** The last TOTP time step accepted: a code of this step or an earlier one is refused (replay). */
  totp_last_step: number | null;
  totp_enabled_at: string | null;
  updated_at: string;
}

/** Single-use recovery codes: SHA-256 of each, used once. */
export interface UserRecoveryCodesTable {
  user_id: string;
  code_hash: string;
  used_at: string | null;
  created_at: string;
}

/** Console sessions: the cookie's SHA-256 and its CSRF token's SHA-256; one project at a time, or operator. */
export interface SessionsTable {
  id: string;
  /** project | operator (migration 032); an operator session's project_id is ''. */
  kind: string;
  user_id: string;
  project_id: string;
  secret_hash: string;
  csrf_hash: string;
  /** How the sign-in was proven besides the password: none | totp | recovery_code | link. */
  second_factor: string;
  source_ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** Operator-issued one-time links: set or reset a password (only the SHA-256 of the secret is kept). */
export interface UserLinksTable {
  id: string;
  user_id: string;
  purpose: string;
  secret_hash: string;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Invitations to a project (migration 029): one-time links, only the SHA-256 of the secret is kept. */
export interface ProjectInvitationsTable {
  id: string;
  project_id: string;
  email: string;
  role: string;
  secret_hash: string;
  /** The user (usr_…) or, for a token without a user, the token (tok_…) that invited. */
  invited_by: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  accepted_by: string | null;
  revoked_at: string | null;
}

/** Passkeys (migration 033, docs/adr/0013-passkeys.md): one WebAuthn credential of a user. */
export interface UserPasskeysTable {
  id: string;
  user_id: string;
  /** The credential id as the browser names it (base64url). */
  credential_id: string;
  /** The COSE public key (base64url). */
  public_key: string;
  /** The authenticator's signature counter last seen (0: the authenticator keeps none). */
  counter: number;
  /** JSON array of the transports the browser reported (usb, nfc, ble, internal, hybrid…). */
  transports: string;
  name: string;
  /** 1: the credential is synced (backed up) by its provider. */
  backed_up: number;
  created_at: string;
  last_used_at: string | null;
}

/** Challenges handed out for a passkey registration or sign-in: single use, short-lived. */
export interface PasskeyChallengesTable {
  id: string;
  /** registration | login */
  purpose: string;
  /** The user registering (null for a sign-in: discoverable credentials). */
  user_id: string | null;
  challenge: string;
  expires_at: string;
}
