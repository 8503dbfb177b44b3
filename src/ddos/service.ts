/**
 * DDoS protection: tiers and custom rules per project (billing reads `ddosTierOf`), and the detector's
 * loop body `observe`: one observation of one public address (a second of the fast path's meters, or a
 * 5-minute sample) → the tracker (detection.ts) → on a start, an incident row, `ddos.attack_started`,
 * mitigation rules through the mitigator and, past the tier's rate, the upstream scrubbing hook; on an end
 * (quiet for the tier's time), the rules removed with their drop counts, `ddos.attack_ended`.
 */
import type { Db } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { conflict, invalid, newId, notFound, type Clock, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { requireOperator, requireProject, type Principal } from '../identity/index.ts';
import type {
  DdosAttack,
  DdosAttackList,
  DdosRule,
  DdosSettings,
  DdosThreshold,
  ListDdosAttacksQuery,
} from '../contract/index.ts';
import { createDdosStore, type AttackRecord, type SettingsRecord } from './store.ts';
import { emptyBaseline, trackAttack, type Observation } from './detection.ts';
import { customRuleProblem, type CustomRule, type MitigationInput } from './nft-rules.ts';
import { protectedTarget, targetTextOrNull } from './targets.ts';
import { tierPolicies as basePolicies, type DdosTier, type TierPolicy } from './tiers.ts';
import type { Mitigator } from './mitigator.ts';
import type { UpstreamScrubbing } from './upstream.ts';

export interface DdosServiceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  mitigator: Mitigator;
  upstream: UpstreamScrubbing;
  /** Changes to the tiers' policies (an operator's tuning; tests shorten the quiet time). */
  policyOverrides?: Partial<TierPolicy>;
}

export interface AddressObservation {
  address: string;
  projectId: string;
  serverId: string | null;
  detectedBy: 'fast_path' | 'counters';
  observation: Observation;
}

const ruleOf = (r: DdosRule): CustomRule => ({
  action: r.action,
  ...(r.source !== undefined && { source: r.source }),
  ...(r.protocol !== undefined && { protocol: r.protocol }),
  ...(r.port !== undefined && { port: r.port }),
  ...(r.length_min !== undefined && { lengthMin: r.length_min }),
  ...(r.length_max !== undefined && { lengthMax: r.length_max }),
});
const wireRule = (r: CustomRule): DdosRule => ({
  action: r.action,
  ...(r.source !== undefined && { source: r.source }),
  ...(r.protocol !== undefined && { protocol: r.protocol }),
  ...(r.port !== undefined && { port: r.port }),
  ...(r.lengthMin !== undefined && { length_min: r.lengthMin }),
  ...(r.lengthMax !== undefined && { length_max: r.lengthMax }),
});

export const attackView = (a: AttackRecord): DdosAttack => ({
  id: a.id,
  project_id: a.projectId,
  server_id: a.serverId,
  address: a.address,
  tier: a.tier,
  status: a.status,
  vector: a.vector,
  detected_by: a.detectedBy,
  started_at: a.startedAt,
  ended_at: a.endedAt,
  peak_pps: Math.round(a.peakPps),
  peak_bps: Math.round(a.peakBps),
  dropped_packets: a.droppedPackets,
  actions: a.actions,
});

export function createDdosService(deps: DdosServiceDeps) {
  const { db, clock } = deps;
  const store = createDdosStore();
  const tierPolicies = Object.fromEntries(
    Object.entries(basePolicies).map(([tier, policy]) => [tier, { ...policy, ...deps.policyOverrides }]),
  ) as Record<DdosTier, TierPolicy>;

  const defaults = (projectId: string): SettingsRecord => ({
    projectId,
    tier: 'standard',
    rules: [],
    thresholds: [],
    version: 0,
    updatedAt: '',
  });

  function view(s: SettingsRecord): DdosSettings {
    const p = tierPolicies[s.tier];
    return {
      project_id: s.projectId,
      tier: s.tier,
      policy: {
        scrubbing_capacity_gbps: p.scrubbingCapacityGbps,
        min_pps: p.minPps,
        min_bps: p.minBps,
        quiet_minutes: Math.round(p.quietMs / 60_000),
        custom_rules: p.customRules,
        per_address_thresholds: p.perAddressThresholds,
        soc: p.soc,
      },
      rules: s.rules.map(wireRule),
      thresholds: s.thresholds.map((t) => ({ address: t.address, min_pps: t.minPps, min_bps: t.minBps })),
      updated_at: s.updatedAt || null,
    };
  }

  const settingsOf = async (projectId: string) => (await store.settings(db, projectId)) ?? defaults(projectId);

  /** Writes new settings with their event, refusing a concurrent change (version). */
  async function change(
    projectId: string,
    next: (current: SettingsRecord) => SettingsRecord,
    eventOf: (before: SettingsRecord, after: SettingsRecord) => Parameters<EventRecorder['record']>[2],
  ): Promise<DdosSettings> {
    return inTransaction(db, async (tx, hooks) => {
      const current = (await store.settings(tx, projectId)) ?? defaults(projectId);
      const updated = { ...next(current), version: current.version + 1, updatedAt: clock.nowIso() };
      await store.putSettings(tx, updated);
      await deps.events.record(tx, hooks, eventOf(current, updated));
      return view(updated);
    });
  }

  return {
    /** The tier of a project (billing, issue 13); `standard` when never set. */
    async ddosTierOf(projectId: string): Promise<DdosTier> {
      return (await store.settings(db, projectId))?.tier ?? 'standard';
    },

    async getSettings(principal: Principal): Promise<DdosSettings> {
      const caller = requireProject(principal, 'viewer');
      return view(await settingsOf(caller.projectId));
    },

    async setTier(principal: Principal, tier: DdosTier): Promise<DdosSettings> {
      const caller = requireProject(principal, 'owner');
      const current = await settingsOf(caller.projectId);
      const policy = tierPolicies[tier];
      if (
        (current.rules.length > 0 && !policy.customRules) ||
        (current.thresholds.length > 0 && !policy.perAddressThresholds)
      )
        throw conflict(`the ${tier} tier has no custom rules or per-address thresholds: remove them first`, {
          reason: 'ddos_tier_in_use',
        });
      if (current.tier === tier) return view(current);
      return change(
        caller.projectId,
        (c) => ({ ...c, tier }),
        (before, after) => ({
          type: 'ddos.tier_changed',
          projectId: caller.projectId,
          resourceType: 'project',
          resourceId: caller.projectId,
          data: { from: before.tier, to: after.tier },
        }),
      );
    },

    async setRules(principal: Principal, rules: DdosRule[]): Promise<DdosSettings> {
      const caller = requireProject(principal, 'member');
      const custom = rules.map(ruleOf);
      custom.forEach((rule, i) => {
        const problem = customRuleProblem(rule);
        if (problem) throw invalid(problem, { fields: [{ field: `rules/${i}`, message: problem }] });
      });
      const current = await settingsOf(caller.projectId);
      if (custom.length > 0 && !tierPolicies[current.tier].customRules)
        throw conflict(`custom rules need the business or enterprise tier (the project has ${current.tier})`, {
          reason: 'ddos_tier_required',
        });
      return change(
        caller.projectId,
        (c) => ({ ...c, rules: custom }),
        (_b, after) => ({
          type: 'ddos.rules_changed',
          projectId: caller.projectId,
          resourceType: 'project',
          resourceId: caller.projectId,
          data: { rules: after.rules.length, thresholds: after.thresholds.length },
        }),
      );
    },

    async setThresholds(principal: Principal, thresholds: DdosThreshold[]): Promise<DdosSettings> {
      const caller = requireProject(principal, 'member');
      const targets = thresholds.map((t, i) => {
        const target = targetTextOrNull(t.address);
        if (target === null)
          throw invalid('address must be an IPv4 address, or an IPv6 address or /64', {
            fields: [{ field: `thresholds/${i}/address`, message: 'not an IPv4 address or an IPv6 /64' }],
          });
        return target;
      });
      const current = await settingsOf(caller.projectId);
      if (thresholds.length > 0 && !tierPolicies[current.tier].perAddressThresholds)
        throw conflict(`per-address thresholds need the enterprise tier (the project has ${current.tier})`, {
          reason: 'ddos_tier_required',
        });
      return change(
        caller.projectId,
        (c) => ({
          ...c,
          thresholds: thresholds.map((t, i) => ({ address: targets[i], minPps: t.min_pps, minBps: t.min_bps })),
        }),
        (_b, after) => ({
          type: 'ddos.rules_changed',
          projectId: caller.projectId,
          resourceType: 'project',
          resourceId: caller.projectId,
          data: { rules: after.rules.length, thresholds: after.thresholds.length },
        }),
      );
    },

    async listAttacks(principal: Principal, q: ListDdosAttacksQuery): Promise<DdosAttackList> {
      const caller = requireProject(principal, 'viewer');
      const limit = Math.min(Math.max(Number(q.limit ?? 50) || 50, 1), 200);
      const beforeId = q.cursor ? Buffer.from(q.cursor, 'base64url').toString() : undefined;
      const rows = await store.listAttacks(db, {
        projectId: caller.projectId,
        status: q.status,
        beforeId,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return {
        attacks: page.map(attackView),
        next_cursor: rows.length > limit ? Buffer.from(page[page.length - 1].id).toString('base64url') : null,
      };
    },

    async getAttack(principal: Principal, id: string): Promise<DdosAttack> {
      const caller = requireProject(principal, 'viewer');
      const attack = await store.attack(db, id);
      if (!attack || attack.projectId !== caller.projectId) throw notFound('attack', id);
      return attackView(attack);
    },

    /** Operators' SOC view: every active attack, enterprise projects first. */
    async liveAttacks(principal: Principal): Promise<DdosAttack[]> {
      requireOperator(principal);
      const rows = await store.listAttacks(db, { status: 'active', limit: 500 });
      const rank = { enterprise: 0, business: 1, standard: 2 } as const;
      return rows.sort((a, b) => rank[a.tier] - rank[b.tier] || b.peakBps - a.peakBps).map(attackView);
    },

    /**
     * The mitigation hosts should have now for these addresses (desired state): one per active incident of
     * their targets, compiled by the host's agent with `compileMitigation`. Rules and limits are read now,
     * so a change of custom rules during an attack reaches the host at its next report.
     */
    async mitigationsFor(
      addresses: readonly string[],
    ): Promise<Array<MitigationInput & { attackId: string; customRules: CustomRule[] }>> {
      const targets = [...new Set(addresses.map((a) => targetTextOrNull(a)).filter((t): t is string => t !== null))];
      const out: Array<MitigationInput & { attackId: string; customRules: CustomRule[] }> = [];
      for (const target of targets) {
        const active = await store.activeAttack(db, target);
        if (!active) continue;
        const settings = await settingsOf(active.projectId);
        const policy = tierPolicies[settings.tier];
        out.push({
          address: target,
          attackId: active.id,
          customRules: settings.rules,
          perSourcePps: policy.perSourcePps,
          synPps: policy.synPps,
        });
      }
      return out;
    },

    /** Packets a host's mitigation table of this incident dropped since its previous report (its agent's). */
    async addDropped(attackId: string, address: string, packets: number): Promise<boolean> {
      if (!(packets > 0)) return false;
      return inTransaction(db, async (tx) => {
        const attack = await store.attack(tx, attackId);
        if (!attack || attack.address !== targetTextOrNull(address)) return false;
        await store.updateAttack(tx, attackId, { droppedPackets: attack.droppedPackets + Math.round(packets) });
        return true;
      });
    },

    /** One observation of one address: detect, and start, follow or end its incident. */
    async observe(observed: AddressObservation): Promise<'started' | 'continues' | 'ended' | 'calm'> {
      // IPv6 is watched and mitigated per /64: its state, incident and table are the /64's (targets.ts).
      const target = protectedTarget(observed.address);
      const input = { ...observed, address: target.text };
      const settings = await settingsOf(input.projectId);
      const policy = tierPolicies[settings.tier];
      const own = policy.perAddressThresholds
        ? settings.thresholds.find((t) => t.address === input.address)
        : undefined;
      const thresholds = { ...policy, ...(own && { minPps: own.minPps, minBps: own.minBps }) };
      const key = `${input.detectedBy}:${input.address}`;
      const state = (await store.addressState(db, key)) ?? { baseline: emptyBaseline, attack: null };
      const step = trackAttack(state, input.observation, thresholds);
      const nowIso = clock.nowIso();
      await store.putAddressState(db, key, step.state, nowIso);
      const t = step.transition;
      if (t.kind === 'started') {
        const existing = await store.activeAttack(db, input.address);
        if (existing) return 'continues'; // the other path already opened it
        const id = newId('attack', clock.nowMs());
        const actions = await deps.mitigator
          .install({
            address: input.address,
            customRules: settings.rules,
            perSourcePps: policy.perSourcePps,
            synPps: policy.synPps,
          })
          .catch((error: unknown) => {
            deps.log.error({ err: error, address: input.address }, 'ddos: mitigation could not be installed');
            return [`mitigation failed: ${(error as Error).message}`];
          });
        if (t.attack.peakBps >= policy.upstreamAboveBps)
          actions.push(await deps.upstream.announce({ prefix: target.prefix, attackId: id, bps: t.attack.peakBps }));
        await inTransaction(db, async (tx, hooks) => {
          await store.insertAttack(tx, {
            id,
            projectId: input.projectId,
            serverId: input.serverId,
            address: input.address,
            tier: settings.tier,
            status: 'active',
            vector: t.attack.vector,
            detectedBy: input.detectedBy,
            startedAt: new Date(t.attack.startedAtMs).toISOString(),
            endedAt: null,
            peakPps: t.attack.peakPps,
            peakBps: t.attack.peakBps,
            droppedPackets: 0,
            actions,
          });
          await deps.events.record(tx, hooks, {
            type: 'ddos.attack_started',
            projectId: input.projectId,
            resourceType: 'ddos_attack',
            resourceId: id,
            data: {
              address: input.address,
              server_id: input.serverId,
              tier: settings.tier,
              vector: t.attack.vector,
              detected_by: input.detectedBy,
              pps: Math.round(t.attack.peakPps),
              bps: Math.round(t.attack.peakBps),
            },
          });
        });
        deps.log.warn({ address: input.address, attack_id: id, vector: t.attack.vector }, 'ddos: attack started');
        return 'started';
      }
      if (t.kind === 'continues' && step.verdict.attack) {
        const active = await store.activeAttack(db, input.address);
        if (active && (t.attack.peakPps > active.peakPps || t.attack.peakBps > active.peakBps))
          await inTransaction(db, (tx) =>
            store.updateAttack(tx, active.id, {
              peakPps: Math.max(active.peakPps, t.attack.peakPps),
              peakBps: Math.max(active.peakBps, t.attack.peakBps),
            }),
          );
        return 'continues';
      }
      if (t.kind === 'ended') {
        const active = await store.activeAttack(db, input.address);
        if (!active) return 'ended';
        const { droppedPackets } = await deps.mitigator.remove(input.address).catch((error: unknown) => {
          deps.log.error({ err: error, address: input.address }, 'ddos: mitigation could not be removed');
          return { droppedPackets: 0 };
        });
        const actions = [
          ...active.actions,
          `mitigation removed after ${Math.round(policy.quietMs / 60_000)} quiet minutes`,
        ];
        if (active.actions.some((a) => a.startsWith('upstream: announce')))
          actions.push(await deps.upstream.withdraw({ prefix: target.prefix, attackId: active.id }));
        const endedAt = new Date(t.endedAtMs).toISOString();
        await inTransaction(db, async (tx, hooks) => {
          await store.updateAttack(tx, active.id, {
            status: 'ended',
            endedAt,
            droppedPackets: active.droppedPackets + droppedPackets,
            actions,
            peakPps: Math.max(active.peakPps, t.attack.peakPps),
            peakBps: Math.max(active.peakBps, t.attack.peakBps),
          });
          await deps.events.record(tx, hooks, {
            type: 'ddos.attack_ended',
            projectId: active.projectId,
            resourceType: 'ddos_attack',
            resourceId: active.id,
            data: {
              address: active.address,
              server_id: active.serverId,
              vector: active.vector,
              duration_s: Math.round((t.endedAtMs - Date.parse(active.startedAt)) / 1000),
              peak_pps: Math.round(Math.max(active.peakPps, t.attack.peakPps)),
              peak_bps: Math.round(Math.max(active.peakBps, t.attack.peakBps)),
              dropped_packets: active.droppedPackets + droppedPackets,
            },
          });
        });
        deps.log.info({ address: input.address, attack_id: active.id }, 'ddos: attack ended');
        return 'ended';
      }
      return t.kind === 'continues' ? 'continues' : 'calm';
    },
  };
}
export type DdosService = ReturnType<typeof createDdosService>;
