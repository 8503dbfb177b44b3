/**
 * Firewalls: create (with rules and targets), list, show (with the rules' counters), rename, replace the
 * rules, apply to and remove from servers and label selectors, delete. Every check runs before anything
 * is written; each mutation is one transaction with its event, and the hosts of the servers it reaches
 * are told after commit (their agents converge the chains: sync.ts gives them their desired state).
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import { conflict, filteredKeysetPage, invalid, newId, notFound, type Clock, pageLimitOf } from '../core/index.ts';
import type { EventInput, EventRecorder } from '../events/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import {
  matchesSelector,
  parseSelector,
  validateLabels,
  type LabeledServer,
  type ServerRef,
} from '../compute/index.ts';
import {
  firewallLimits,
  type CreateFirewallBody,
  type EventPayloads,
  type Firewall,
  type FirewallList,
  type FirewallTarget,
  type ListFirewallsQuery,
  type UpdateFirewallBody,
  type FirewallRule,
} from '../contract/index.ts';
import { createFirewallStore, type FirewallRecord, type TargetRecord } from './store.ts';
import { checkRules } from './rules.ts';
import { firewallView } from './views.ts';

type FirewallEventType = Extract<keyof EventPayloads, `firewall.${string}`>;

/** What the firewalls domain needs of servers (compute). */
export interface FirewallServers {
  findServer(q: Tx | Db, projectId: string, ref: string, options?: { lock?: boolean }): Promise<ServerRef | null>;
  labeledServers(q: Tx | Db, where: { projectId: string } | { hostId: string }): Promise<LabeledServer[]>;
}

export interface FirewallsDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
  servers: FirewallServers;
  /** Told after commit which hosts have new desired state, so their agents act at once. */
  onDesiredStateChanged?: (hostId: string) => void;
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^fw_[0-9a-z]{26}$/.test(id))
    throw invalid('cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

/** Which firewalls reach each server: its direct targets and the selectors of its project matching its labels. */
export function firewallsOfServers(
  servers: readonly LabeledServer[],
  targets: readonly TargetRecord[],
): Map<string, Set<string>> {
  const selectors = targets
    .filter((t) => t.kind === 'label_selector')
    .map((t) => ({ ...t, requirements: parseSelector(t.target) }));
  const out = new Map<string, Set<string>>();
  for (const server of servers) {
    const ids = new Set<string>();
    for (const t of targets) if (t.kind === 'server' && t.target === server.id) ids.add(t.firewallId);
    for (const s of selectors)
      if (s.projectId === server.projectId && matchesSelector(server.labels, s.requirements)) ids.add(s.firewallId);
    out.set(server.id, ids);
  }
  return out;
}

interface ResolvedTarget {
  kind: 'server' | 'label_selector';
  target: string;
  /** The servers it reaches now. */
  servers: LabeledServer[];
}

export function createFirewallService(deps: FirewallsDeps) {
  const { db, clock } = deps;
  const store = createFirewallStore(db, deps.dialect);

  const recordEvent = <T extends FirewallEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    firewall: { id: string; projectId: string },
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: firewall.projectId,
      resourceType: 'firewall',
      resourceId: firewall.id,
      data,
    } as EventInput<T>);

  const notify = (hooks: TxHooks, servers: Iterable<LabeledServer>) => {
    if (!deps.onDesiredStateChanged) return;
    const hosts = new Set([...servers].map((s) => s.hostId).filter((id): id is string => id !== null));
    hooks.afterCommit(() => hosts.forEach((id) => deps.onDesiredStateChanged!(id)));
  };

  async function views(q: Tx | Db, firewalls: FirewallRecord[]): Promise<Firewall[]> {
    const ids = firewalls.map((f) => f.id);
    const [targets, counters] = await Promise.all([store.targets(q, ids), store.counters(q, ids)]);
    const projects = [...new Set(firewalls.map((f) => f.projectId))];
    const servers = new Map<string, LabeledServer[]>();
    if (targets.some((t) => t.kind === 'label_selector'))
      for (const projectId of projects) servers.set(projectId, await deps.servers.labeledServers(q, { projectId }));
    return firewalls.map((f) =>
      firewallView(f, {
        targets: targets.filter((t) => t.firewallId === f.id),
        counters: counters.filter((c) => c.firewallId === f.id),
        projectServers: servers.get(f.projectId) ?? [],
      }),
    );
  }
  const viewOne = async (q: Tx | Db, firewall: FirewallRecord) => (await views(q, [firewall]))[0];

  async function firewallOrNotFound(q: Tx | Db, projectId: string, ref: string, lock = false) {
    const firewall = await store.firewall(q, projectId, ref, { lock });
    if (!firewall) throw notFound('firewall', ref);
    return firewall;
  }

  /** Checks targets and finds the servers they reach (a server by id or name; a selector that parses). */
  async function resolveTargets(
    tx: Tx,
    projectId: string,
    targets: readonly FirewallTarget[],
    field: string,
  ): Promise<ResolvedTarget[]> {
    const out: ResolvedTarget[] = [];
    let projectServers: LabeledServer[] | null = null;
    for (const [i, target] of targets.entries()) {
      const at = `${field}[${i}]`;
      if (target.type === 'server') {
        if (!target.server || target.label_selector)
          throw invalid(`${at}: a server target has server.id (and no label_selector)`, {
            reason: 'target_invalid',
            fields: [{ field: `${at}.server`, message: 'required for type server' }],
          });
        const server = await deps.servers.findServer(tx, projectId, target.server.id);
        if (!server || server.deleted || server.desiredState === 'deleted') throw notFound('server', target.server.id);
        projectServers ??= await deps.servers.labeledServers(tx, { projectId });
        const labeled = projectServers.find((s) => s.id === server.id);
        out.push({ kind: 'server', target: server.id, servers: labeled ? [labeled] : [] });
      } else {
        if (!target.label_selector || target.server)
          throw invalid(`${at}: a label_selector target has label_selector.selector (and no server)`, {
            reason: 'target_invalid',
            fields: [{ field: `${at}.label_selector`, message: 'required for type label_selector' }],
          });
        const text = target.label_selector.selector.trim();
        let requirements: ReturnType<typeof parseSelector>;
        try {
          requirements = parseSelector(text);
        } catch {
          requirements = [];
        }
        if (requirements.length === 0)
          throw invalid(`${at}: "${text}" is not a label selector`, {
            reason: 'target_invalid',
            fields: [{ field: `${at}.label_selector.selector`, message: 'not a label selector, e.g. role=web' }],
          });
        projectServers ??= await deps.servers.labeledServers(tx, { projectId });
        out.push({
          kind: 'label_selector',
          target: text,
          servers: projectServers.filter((s) => matchesSelector(s.labels, requirements)),
        });
      }
    }
    const seen = new Set<string>();
    for (const t of out) {
      const key = `${t.kind}:${t.target}`;
      if (seen.has(key))
        throw invalid(`${field}: ${t.kind} ${t.target} is given twice`, {
          reason: 'target_invalid',
          fields: [{ field, message: `${t.target} twice` }],
        });
      seen.add(key);
    }
    return out;
  }

  /**
   * Adds targets to a firewall: refused when one is applied already, when the firewall would have too
   * many targets, or when a server would be reached by too many firewalls. Returns the servers reached.
   */
  async function addTargets(tx: Tx, firewall: FirewallRecord, targets: ResolvedTarget[]): Promise<LabeledServer[]> {
    const existing = await store.targets(tx, [firewall.id]);
    for (const t of targets)
      if (existing.some((e) => e.kind === t.kind && e.target === t.target))
        throw conflict(`firewall ${firewall.name} is applied to ${t.kind} ${t.target} already`, {
          reason: 'already_applied',
          details: { type: t.kind, target: t.target },
        });
    if (existing.length + targets.length > firewallLimits.targetsPerFirewall)
      throw conflict(`a firewall is applied to at most ${firewallLimits.targetsPerFirewall} servers and selectors`, {
        reason: 'too_many_targets',
      });
    const reached = new Map(targets.flatMap((t) => t.servers).map((s) => [s.id, s]));
    if (reached.size > 0) {
      const all = await store.targetsReaching(tx, [...reached.keys()], [firewall.projectId]);
      const planned: TargetRecord[] = [
        ...all,
        ...targets.map((t) => ({ firewallId: firewall.id, projectId: firewall.projectId, ...t })),
      ];
      for (const [serverId, ids] of firewallsOfServers([...reached.values()], planned))
        if (ids.size > firewallLimits.firewallsPerServer)
          throw conflict(
            `server ${reached.get(serverId)!.name} would have ${ids.size} firewalls: the limit is ${firewallLimits.firewallsPerServer}`,
            { reason: 'too_many_firewalls', details: { server_id: serverId } },
          );
    }
    const now = clock.nowIso();
    for (const t of targets)
      await store.insertTarget(
        tx,
        { firewallId: firewall.id, projectId: firewall.projectId, kind: t.kind, target: t.target },
        now,
      );
    return [...reached.values()];
  }

  const targetEvent = (targets: ResolvedTarget[]) => ({
    server_ids: targets.filter((t) => t.kind === 'server').map((t) => t.target),
    label_selectors: targets.filter((t) => t.kind === 'label_selector').map((t) => t.target),
  });

  /** The servers a firewall reaches now (for the hosts to tell). */
  async function serversReached(tx: Tx, firewall: FirewallRecord): Promise<LabeledServer[]> {
    const targets = await store.targets(tx, [firewall.id]);
    if (targets.length === 0) return [];
    const servers = await deps.servers.labeledServers(tx, { projectId: firewall.projectId });
    const reach = firewallsOfServers(servers, targets);
    return servers.filter((s) => reach.get(s.id)!.size > 0);
  }

  const nameTaken = (name: string) =>
    conflict(`a firewall named ${name} already exists in this project`, {
      reason: 'name_taken',
      fields: [{ field: 'name', message: 'already used' }],
    });

  return {
    async createFirewall(principal: Principal, body: CreateFirewallBody): Promise<{ firewall: Firewall }> {
      const caller = requireProject(principal, 'member');
      const labels = validateLabels(body.labels);
      const rules = checkRules(body.rules ?? []);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          if (await store.firewall(tx, caller.projectId, body.name)) throw nameTaken(body.name);
          const targets = await resolveTargets(tx, caller.projectId, body.apply_to ?? [], 'apply_to');
          const now = clock.nowIso();
          const firewall: FirewallRecord = {
            id: newId('firewall', clock.nowMs()),
            projectId: caller.projectId,
            name: body.name,
            labels,
            rules,
            rulesVersion: 1,
            createdAt: now,
            updatedAt: now,
          };
          await store.insert(tx, firewall);
          await recordEvent(tx, hooks, 'firewall.created', firewall, { name: firewall.name, rules: rules.length });
          if (targets.length > 0) {
            notify(hooks, await addTargets(tx, firewall, targets));
            await recordEvent(tx, hooks, 'firewall.applied', firewall, targetEvent(targets));
          }
          return { firewall: await viewOne(tx, firewall) };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(body.name);
        throw error;
      }
    },

    async listFirewalls(principal: Principal, query: ListFirewallsQuery): Promise<FirewallList> {
      const caller = requireProject(principal, 'viewer');
      const limit = pageLimitOf(query.limit);
      const selector = query.label_selector ? parseSelector(query.label_selector) : [];
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const { page, nextAfterId } = await filteredKeysetPage({
        limit,
        afterId: after,
        read: (afterId, batch) => store.list({ projectId: caller.projectId, afterId, limit: batch, name: query.name }),
        keep: selector.length > 0 ? (row) => matchesSelector(row.labels, selector) : undefined,
      });
      return {
        firewalls: await views(db, page),
        next_cursor: nextAfterId ? encodeCursor(nextAfterId) : null,
      };
    },

    async getFirewall(principal: Principal, ref: string): Promise<{ firewall: Firewall }> {
      const caller = requireProject(principal, 'viewer');
      return { firewall: await viewOne(db, await firewallOrNotFound(db, caller.projectId, ref)) };
    },

    async updateFirewall(principal: Principal, ref: string, body: UpdateFirewallBody): Promise<{ firewall: Firewall }> {
      const caller = requireProject(principal, 'member');
      const labels = body.labels === undefined ? undefined : validateLabels(body.labels);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const firewall = await firewallOrNotFound(tx, caller.projectId, ref, true);
          await store.update(tx, firewall.id, { name: body.name, labels }, clock.nowIso());
          const updated = (await store.firewall(tx, caller.projectId, firewall.id))!;
          await recordEvent(tx, hooks, 'firewall.updated', firewall, { name: updated.name });
          return { firewall: await viewOne(tx, updated) };
        });
      } catch (error) {
        if (isUniqueViolation(error) && body.name) throw nameTaken(body.name);
        throw error;
      }
    },

    async deleteFirewall(principal: Principal, ref: string): Promise<void> {
      const caller = requireProject(principal, 'member');
      await inTransaction(db, async (tx, hooks) => {
        const firewall = await firewallOrNotFound(tx, caller.projectId, ref, true);
        const targets = await store.targets(tx, [firewall.id]);
        if (targets.length > 0)
          throw conflict(`firewall ${firewall.name} is applied to ${targets.length} target(s): remove it first`, {
            reason: 'firewall_in_use',
            details: { targets: targets.map((t) => ({ type: t.kind, target: t.target })) },
          });
        await store.delete(tx, firewall.id);
        await recordEvent(tx, hooks, 'firewall.deleted', firewall, { name: firewall.name });
      });
    },

    async setRules(principal: Principal, ref: string, rules: readonly FirewallRule[]): Promise<{ firewall: Firewall }> {
      const caller = requireProject(principal, 'member');
      const stored = checkRules(rules);
      return inTransaction(db, async (tx, hooks) => {
        const firewall = await firewallOrNotFound(tx, caller.projectId, ref, true);
        await store.update(tx, firewall.id, { rules: stored, bumpRules: true }, clock.nowIso());
        const updated = (await store.firewall(tx, caller.projectId, firewall.id))!;
        await recordEvent(tx, hooks, 'firewall.rules_set', firewall, {
          rules: stored.length,
          rules_version: updated.rulesVersion,
        });
        notify(hooks, await serversReached(tx, updated));
        return { firewall: await viewOne(tx, updated) };
      });
    },

    async applyToResources(
      principal: Principal,
      ref: string,
      targets: readonly FirewallTarget[],
    ): Promise<{ firewall: Firewall }> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const firewall = await firewallOrNotFound(tx, caller.projectId, ref, true);
        const resolved = await resolveTargets(tx, caller.projectId, targets, 'apply_to');
        notify(hooks, await addTargets(tx, firewall, resolved));
        await recordEvent(tx, hooks, 'firewall.applied', firewall, targetEvent(resolved));
        return { firewall: await viewOne(tx, firewall) };
      });
    },

    /** The project's firewalls named by `refs` (ids or names) for a new server, read before its create (400 `firewalls[i]` if unknown). */
    async firewallsForNewServer(projectId: string, refs: readonly string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const [i, ref] of refs.entries()) {
        const field = `firewalls[${i}]`;
        const firewall = await store.firewall(db, projectId, ref);
        if (!firewall)
          throw invalid(`${field}: no firewall ${ref} in this project`, {
            reason: 'unknown_firewall',
            fields: [{ field, message: `unknown firewall ${ref}` }],
          });
        if (ids.includes(firewall.id))
          throw invalid(`${field}: firewall ${firewall.name} is given twice`, {
            reason: 'duplicate_firewall',
            fields: [{ field, message: 'given twice' }],
          });
        ids.push(firewall.id);
      }
      if (ids.length > firewallLimits.firewallsPerServer)
        throw invalid(`a server has at most ${firewallLimits.firewallsPerServer} firewalls`, {
          reason: 'too_many_firewalls',
          fields: [{ field: 'firewalls', message: `at most ${firewallLimits.firewallsPerServer}` }],
        });
      return ids;
    },

    /**
     * Applies firewalls to a server being created, inside the create's transaction (as `apply_to_resources`
     * with a server target), so that the server is behind them before its first packet.
     */
    async applyToNewServer(
      tx: Tx,
      hooks: TxHooks,
      projectId: string,
      serverId: string,
      firewallIds: readonly string[],
    ): Promise<void> {
      for (const id of firewallIds) {
        const firewall = await firewallOrNotFound(tx, projectId, id, true);
        const resolved = await resolveTargets(
          tx,
          projectId,
          [{ type: 'server', server: { id: serverId } }],
          'firewalls',
        );
        notify(hooks, await addTargets(tx, firewall, resolved));
        await recordEvent(tx, hooks, 'firewall.applied', firewall, targetEvent(resolved));
      }
    },

    async removeFromResources(
      principal: Principal,
      ref: string,
      targets: readonly FirewallTarget[],
    ): Promise<{ firewall: Firewall }> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const firewall = await firewallOrNotFound(tx, caller.projectId, ref, true);
        const existing = await store.targets(tx, [firewall.id]);
        // A server target may name a server by name, or one deleted since: match stored ids first.
        const resolved: ResolvedTarget[] = [];
        for (const [i, target] of targets.entries()) {
          const direct =
            target.type === 'server' &&
            target.server &&
            existing.find((e) => e.kind === 'server' && e.target === target.server!.id);
          if (direct) resolved.push({ kind: 'server', target: direct.target, servers: [] });
          else resolved.push(...(await resolveTargets(tx, caller.projectId, [target], `remove_from[${i}]`)));
        }
        const reached = await serversReached(tx, firewall);
        for (const t of resolved)
          if (!existing.some((e) => e.kind === t.kind && e.target === t.target))
            throw conflict(`firewall ${firewall.name} is not applied to ${t.kind} ${t.target}`, {
              reason: 'not_applied',
              details: { type: t.kind, target: t.target },
            });
        for (const t of resolved) await store.deleteTarget(tx, { firewallId: firewall.id, ...t });
        await store.update(tx, firewall.id, {}, clock.nowIso());
        await recordEvent(tx, hooks, 'firewall.removed', firewall, targetEvent(resolved));
        notify(hooks, reached);
        return { firewall: await viewOne(tx, firewall) };
      });
    },
  };
}

export type FirewallService = ReturnType<typeof createFirewallService>;
