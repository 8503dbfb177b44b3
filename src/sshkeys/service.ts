/**
 * SSH keys: save (parsed and fingerprinted), list, show, rename or relabel, delete; and the lookup
 * `POST /v1/servers` uses to turn key ids and names into public keys (passed to compute as a function).
 * Every check runs before anything is written; each mutation is one transaction with its event.
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import {
  conflict,
  filteredKeysetPage,
  invalid,
  newId,
  notFound,
  VmcError,
  type Clock,
  pageLimitOf,
} from '../core/index.ts';
import type { EventInput, EventRecorder } from '../events/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import { matchesSelector, parseSelector, validateLabels } from '../compute/index.ts';
import {
  sshKeyLimits,
  type CreateSshKeyBody,
  type EventPayloads,
  type ListSshKeysQuery,
  type SshKey,
  type SshKeyList,
  type UpdateSshKeyBody,
} from '../contract/index.ts';
import { createSshKeyStore, type SshKeyRecord } from './store.ts';
import { parsePublicKey } from './public-key.ts';

type SshKeyEventType = Extract<keyof EventPayloads, `ssh_key.${string}`>;

export interface SshKeysDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^key_[0-9a-z]{26}$/.test(id))
    throw invalid('cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

export const sshKeyView = (k: SshKeyRecord): SshKey => ({
  id: k.id,
  name: k.name,
  public_key: k.publicKey,
  fingerprint: k.fingerprint,
  type: k.type,
  bits: k.bits,
  labels: k.labels,
  created_at: k.createdAt,
});

const nameTaken = (name: string) =>
  conflict(`an SSH key named ${name} already exists in this project`, {
    reason: 'name_taken',
    fields: [{ field: 'name', message: 'already used' }],
  });

const keyExists = (existing: SshKeyRecord) =>
  conflict(`this key is saved already as ${existing.name} (${existing.fingerprint})`, {
    reason: 'key_exists',
    fields: [{ field: 'public_key', message: `saved already as ${existing.name}` }],
    details: { ssh_key_id: existing.id, name: existing.name, fingerprint: existing.fingerprint },
  });

export function createSshKeyService(deps: SshKeysDeps) {
  const { db, clock } = deps;
  const store = createSshKeyStore(db, deps.dialect);

  const recordEvent = <T extends SshKeyEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    key: { id: string; projectId: string },
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: key.projectId,
      resourceType: 'ssh_key',
      resourceId: key.id,
      data,
    } as EventInput<T>);

  async function keyOrNotFound(q: Tx | Db, projectId: string, ref: string, lock = false) {
    const key = await store.key(q, projectId, ref, { lock });
    if (!key) throw notFound('ssh_key', ref);
    return key;
  }

  return {
    async createSshKey(principal: Principal, body: CreateSshKeyBody): Promise<{ ssh_key: SshKey }> {
      const caller = requireProject(principal, 'member');
      const labels = validateLabels(body.labels);
      const parsed = parsePublicKey(body.public_key);
      if (!parsed.ok)
        throw invalid(`public_key: ${parsed.message}`, {
          reason: parsed.reason,
          fields: [{ field: 'public_key', message: parsed.message }],
        });
      try {
        return await inTransaction(db, async (tx, hooks) => {
          await store.lockProject(tx, caller.projectId);
          if (await store.key(tx, caller.projectId, body.name)) throw nameTaken(body.name);
          const same = await store.byFingerprint(tx, caller.projectId, parsed.fingerprint);
          if (same) throw keyExists(same);
          const count = await store.count(tx, caller.projectId);
          if (count >= sshKeyLimits.keysPerProject)
            throw new VmcError(
              'forbidden',
              `project quota exceeded: SSH keys ${count}/${sshKeyLimits.keysPerProject}; delete one or ask support`,
              { reason: 'quota_exceeded', details: { ssh_keys: count, limit: sshKeyLimits.keysPerProject } },
            );
          const now = clock.nowIso();
          const key: SshKeyRecord = {
            id: newId('sshKey', clock.nowMs()),
            projectId: caller.projectId,
            name: body.name,
            publicKey: parsed.publicKey,
            fingerprint: parsed.fingerprint,
            type: parsed.type,
            bits: parsed.bits,
            labels,
            createdAt: now,
            updatedAt: now,
          };
          await store.insert(tx, key);
          await recordEvent(tx, hooks, 'ssh_key.created', key, {
            name: key.name,
            fingerprint: key.fingerprint,
            type: key.type,
          });
          return { ssh_key: sshKeyView(key) };
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          const same = await store.byFingerprint(db, caller.projectId, parsed.fingerprint);
          throw same ? keyExists(same) : nameTaken(body.name);
        }
        throw error;
      }
    },

    async listSshKeys(principal: Principal, query: ListSshKeysQuery): Promise<SshKeyList> {
      const caller = requireProject(principal, 'viewer');
      const limit = pageLimitOf(query.limit);
      const selector = query.label_selector ? parseSelector(query.label_selector) : [];
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const { page, nextAfterId } = await filteredKeysetPage({
        limit,
        afterId: after,
        read: (afterId, batch) =>
          store.list({
            projectId: caller.projectId,
            afterId,
            limit: batch,
            name: query.name,
            fingerprint: query.fingerprint,
          }),
        keep: selector.length > 0 ? (row) => matchesSelector(row.labels, selector) : undefined,
      });
      return { ssh_keys: page.map(sshKeyView), next_cursor: nextAfterId ? encodeCursor(nextAfterId) : null };
    },

    async getSshKey(principal: Principal, ref: string): Promise<{ ssh_key: SshKey }> {
      const caller = requireProject(principal, 'viewer');
      return { ssh_key: sshKeyView(await keyOrNotFound(db, caller.projectId, ref)) };
    },

    async updateSshKey(principal: Principal, ref: string, body: UpdateSshKeyBody): Promise<{ ssh_key: SshKey }> {
      const caller = requireProject(principal, 'member');
      const labels = body.labels === undefined ? undefined : validateLabels(body.labels);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const key = await keyOrNotFound(tx, caller.projectId, ref, true);
          if (body.name !== undefined && body.name !== key.name) {
            const other = await store.key(tx, caller.projectId, body.name);
            if (other && other.id !== key.id) throw nameTaken(body.name);
          }
          await store.update(tx, key.id, { name: body.name, labels }, clock.nowIso());
          const updated = (await store.key(tx, caller.projectId, key.id))!;
          await recordEvent(tx, hooks, 'ssh_key.updated', key, { name: updated.name });
          return { ssh_key: sshKeyView(updated) };
        });
      } catch (error) {
        if (isUniqueViolation(error) && body.name) throw nameTaken(body.name);
        throw error;
      }
    },

    async deleteSshKey(principal: Principal, ref: string): Promise<void> {
      const caller = requireProject(principal, 'member');
      await inTransaction(db, async (tx, hooks) => {
        const key = await keyOrNotFound(tx, caller.projectId, ref, true);
        await store.delete(tx, key.id);
        await recordEvent(tx, hooks, 'ssh_key.deleted', key, { name: key.name, fingerprint: key.fingerprint });
      });
    },

    /**
     * The public keys of the project's saved keys named by `refs` (ids or names), by reference; a reference
     * that names no key of the project is absent from the map. Reads outside any transaction (compute calls
     * it before its own).
     */
    async publicKeysByRef(projectId: string, refs: readonly string[]): Promise<Map<string, string>> {
      const keys = await store.keysByRefs(db, projectId, refs);
      const out = new Map<string, string>();
      for (const ref of refs) {
        const key = keys.find((k) => k.id === ref) ?? keys.find((k) => k.name === ref);
        if (key) out.set(ref, key.publicKey);
      }
      return out;
    },
  };
}

export type SshKeyService = ReturnType<typeof createSshKeyService>;
