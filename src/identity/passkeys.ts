/**
 * Passkeys (WebAuthn) for console sign-in (docs/adr/0013-passkeys.md): a signed-in user registers
 * discoverable credentials with user verification; signing in with one proves possession of the
 * authenticator and its user verification — two factors, so no password and no TOTP are asked. Challenges
 * are stored in the database (any replica answers the second call), single use, 5 minutes; the signature
 * counter must grow (when the authenticator keeps one). The relying party (RP ID, origins) is the
 * configured one, or else the console's own host and origin as the request names them.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Db } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { VmcError, newId, notFound, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type {
  Passkey,
  PasskeyLoginBody,
  PasskeyLoginOptions,
  PasskeyRegistrationOptions,
  RegisterPasskeyBody,
} from '../contract/index.ts';
import type { Principal } from './roles.ts';
import { createPasskeyStore, type ChallengeRecord, type PasskeyRecord } from './passkey-store.ts';
import type { ClientInfo, PeopleService, SessionIssued } from './people.ts';

export const passkeyChallengeLifetimeMs = 5 * 60_000;
export const maxPasskeysPerUser = 20;

/** The relying party: configured, or (when not) the console's host and origin as each request names them. */
export interface PasskeyConfig {
  /** The RP ID (a host name, e.g. `console.example.eu`): credentials are bound to it for good. */
  rpId?: string;
  /** The origins the browser may sign from (e.g. `https://console.example.eu`); default: the request's. */
  origins?: string[];
  /** The name browsers show (default "VMCloud"). */
  rpName?: string;
}

/** Where a request came from: the host the console was reached at and its origin. */
export interface RequestOrigin {
  hostname: string;
  origin: string;
}

/** 400 at registration (a signed-in request with a bad field); 401 at sign-in (the proof is refused). */
const challengeInvalid = (purpose: ChallengeRecord['purpose']) =>
  new VmcError(
    purpose === 'login' ? 'unauthenticated' : 'invalid',
    'the passkey challenge is unknown, used already or expired: start again',
    { reason: 'passkey_challenge_invalid' },
  );
const passkeyInvalid = (code: 'invalid' | 'unauthenticated', detail: string) =>
  new VmcError(code, `the passkey answer does not verify: ${detail}`, { reason: 'passkey_invalid' });

const view = (p: PasskeyRecord): Passkey => ({
  id: p.id,
  name: p.name,
  transports: p.transports,
  backed_up: p.backedUp,
  created_at: p.createdAt,
  last_used_at: p.lastUsedAt,
});

export function createPasskeyService(deps: {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  people: Pick<PeopleService, 'sessionUser' | 'signInVerified'>;
  config?: PasskeyConfig;
}) {
  const { db, clock } = deps;
  const store = createPasskeyStore();
  const rpName = deps.config?.rpName ?? 'VMCloud';

  const relyingParty = (from: RequestOrigin) => ({
    rpId: deps.config?.rpId ?? from.hostname,
    origins: deps.config?.origins?.length ? deps.config.origins : [from.origin],
  });

  async function newChallenge(purpose: ChallengeRecord['purpose'], userId: string | null, challenge: string) {
    const nowMs = clock.nowMs();
    await store.pruneChallenges(db, clock.nowIso());
    const record: ChallengeRecord = {
      id: newId('passkeyChallenge', nowMs),
      purpose,
      userId,
      challenge,
      expiresAt: new Date(nowMs + passkeyChallengeLifetimeMs).toISOString(),
    };
    await store.insertChallenge(db, record);
    return record;
  }

  /** Takes (deletes) a challenge of this purpose (and user): any second use finds nothing. */
  async function takeChallenge(id: string, purpose: ChallengeRecord['purpose'], userId: string | null) {
    const challenge = await store.takeChallenge(db, id);
    if (!challenge || challenge.purpose !== purpose || challenge.userId !== userId) throw challengeInvalid(purpose);
    if (challenge.expiresAt <= clock.nowIso()) throw challengeInvalid(purpose);
    return challenge;
  }

  return {
    async beginRegistration(principal: Principal, from: RequestOrigin): Promise<PasskeyRegistrationOptions> {
      const user = await deps.people.sessionUser(principal);
      const existing = await store.ofUser(db, user.id);
      if (existing.length >= maxPasskeysPerUser)
        throw new VmcError('conflict', `you have ${maxPasskeysPerUser} passkeys already: delete one first`, {
          reason: 'passkey_limit',
        });
      const rp = relyingParty(from);
      const options = await generateRegistrationOptions({
        rpName,
        rpID: rp.rpId,
        userName: user.email,
        userDisplayName: user.name || user.email,
        userID: new TextEncoder().encode(user.id),
        timeout: passkeyChallengeLifetimeMs,
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      const challenge = await newChallenge('registration', user.id, options.challenge);
      return {
        challenge_id: challenge.id,
        options: options as PasskeyRegistrationOptions['options'],
        expires_at: challenge.expiresAt,
      };
    },

    async register(principal: Principal, body: RegisterPasskeyBody, from: RequestOrigin): Promise<Passkey> {
      const user = await deps.people.sessionUser(principal);
      const challenge = await takeChallenge(body.challenge_id, 'registration', user.id);
      const rp = relyingParty(from);
      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response: body.credential as unknown as RegistrationResponseJSON,
          expectedChallenge: challenge.challenge,
          expectedOrigin: rp.origins,
          expectedRPID: rp.rpId,
          requireUserVerification: true,
        });
      } catch (error) {
        throw passkeyInvalid('invalid', (error as Error).message);
      }
      if (!verification.verified) throw passkeyInvalid('invalid', 'not verified');
      const info = verification.registrationInfo;
      const nowIso = clock.nowIso();
      const record: PasskeyRecord = {
        id: newId('passkey', clock.nowMs()),
        userId: user.id,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: info.credential.counter,
        transports: (body.credential.response.transports ?? []).slice(0, 10),
        name: body.name?.trim() || `Passkey ${nowIso.slice(0, 10)}`,
        backedUp: info.credentialBackedUp,
        createdAt: nowIso,
        lastUsedAt: null,
      };
      return inTransaction(db, async (tx, hooks) => {
        if (await store.byCredentialId(tx, record.credentialId))
          throw new VmcError('conflict', 'this passkey is registered already', { reason: 'passkey_exists' });
        await store.insert(tx, record);
        await deps.events.record(tx, hooks, {
          type: 'user.passkey_added',
          projectId: null,
          resourceType: 'user',
          resourceId: user.id,
          data: { passkey_id: record.id, name: record.name, backed_up: record.backedUp },
        });
        return view(record);
      });
    },

    async list(principal: Principal): Promise<Passkey[]> {
      const user = await deps.people.sessionUser(principal);
      return (await store.ofUser(db, user.id)).map(view);
    },

    /** Deletes one of the signed-in user's passkeys; another user's is not found. */
    async delete(principal: Principal, id: string): Promise<void> {
      const user = await deps.people.sessionUser(principal);
      await inTransaction(db, async (tx, hooks) => {
        const deleted = await store.delete(tx, user.id, id);
        if (!deleted) throw notFound('passkey', id);
        await deps.events.record(tx, hooks, {
          type: 'user.passkey_deleted',
          projectId: null,
          resourceType: 'user',
          resourceId: user.id,
          data: { passkey_id: deleted.id, name: deleted.name },
        });
      });
    },

    async beginLogin(from: RequestOrigin): Promise<PasskeyLoginOptions> {
      const rp = relyingParty(from);
      // Discoverable credentials: no allowCredentials, the browser offers the passkeys it has for this RP.
      const options = await generateAuthenticationOptions({
        rpID: rp.rpId,
        timeout: passkeyChallengeLifetimeMs,
        userVerification: 'required',
      });
      const challenge = await newChallenge('login', null, options.challenge);
      return {
        challenge_id: challenge.id,
        options: options as PasskeyLoginOptions['options'],
        expires_at: challenge.expiresAt,
      };
    },

    async login(body: PasskeyLoginBody, input: { client: ClientInfo; from: RequestOrigin }): Promise<SessionIssued> {
      const rp = relyingParty(input.from);
      return deps.people.signInVerified({
        client: input.client,
        projectId: body.project_id,
        secondFactor: 'passkey',
        verify: async () => {
          const challenge = await takeChallenge(body.challenge_id, 'login', null);
          const passkey = await store.byCredentialId(db, body.credential.id);
          if (!passkey)
            throw new VmcError('unauthenticated', 'this passkey is not registered (deleted?): sign in otherwise', {
              reason: 'passkey_unknown',
            });
          const handle = body.credential.response.userHandle;
          if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId)
            throw passkeyInvalid('unauthenticated', 'the user handle is not the passkey’s');
          let verification;
          try {
            verification = await verifyAuthenticationResponse({
              response: body.credential as unknown as AuthenticationResponseJSON,
              expectedChallenge: challenge.challenge,
              expectedOrigin: rp.origins,
              expectedRPID: rp.rpId,
              credential: {
                id: passkey.credentialId,
                publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
                counter: passkey.counter,
                transports: passkey.transports,
              },
              requireUserVerification: true,
            });
          } catch (error) {
            throw passkeyInvalid('unauthenticated', (error as Error).message);
          }
          if (!verification.verified) throw passkeyInvalid('unauthenticated', 'not verified');
          const newCounter = verification.authenticationInfo.newCounter;
          return {
            userId: passkey.userId,
            record: async (tx) => {
              // A concurrent sign-in that moved the counter first wins; this one is refused.
              if (!(await store.recordUse(tx, passkey.id, passkey.counter, newCounter, clock.nowIso())))
                throw passkeyInvalid('unauthenticated', 'the signature counter moved meanwhile');
            },
          };
        },
      });
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
