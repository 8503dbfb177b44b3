import { Readable } from 'node:stream';
import type { Route } from '../route.ts';
import type { TrafficService } from '../../../traffic/index.ts';
import type { FlowLogService } from '../../../flowlogs/index.ts';
import type { DdosService } from '../../../ddos/index.ts';
import {
  exportFlowLogs,
  getDdosAttack,
  getDdosSettings,
  getFlowLogSettings,
  getServerTraffic,
  getTrafficSummary,
  listDdosAttacks,
  listFlowLogs,
  listLiveAttacks,
  setDdosRules,
  setDdosThresholds,
  setDdosTier,
  setFlowLogSettings,
} from '../../../contract/index.ts';

export function registerTrafficRoutes(
  route: Route,
  deps: { traffic: TrafficService; flowLogs: FlowLogService; ddos: DdosService },
) {
  const { traffic, flowLogs, ddos } = deps;
  route(getServerTraffic, ({ principal, params, query }) => traffic.serverTraffic(principal, params.id, query));
  route(getTrafficSummary, ({ principal, query }) => traffic.summary(principal, query));

  route(listFlowLogs, ({ principal, query }) => flowLogs.query(principal, query));
  route(exportFlowLogs, async ({ principal, query, reply }) => {
    const lines = flowLogs.export(principal, query);
    // The first line is read here, so that a refused query answers with its problem, not a broken stream.
    const first = await lines.next();
    async function* body() {
      if (!first.done) yield first.value;
      yield* lines;
    }
    const type = query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
    return reply.code(200).type(type).send(Readable.from(body()));
  });
  route(getFlowLogSettings, async ({ principal }) => ({ settings: await flowLogs.getSettings(principal) }));
  route(setFlowLogSettings, async ({ principal, body }) => ({ settings: await flowLogs.setSettings(principal, body) }));

  route(getDdosSettings, async ({ principal }) => ({ ddos: await ddos.getSettings(principal) }));
  route(setDdosTier, async ({ principal, body }) => ({ ddos: await ddos.setTier(principal, body.tier) }));
  route(setDdosRules, async ({ principal, body }) => ({ ddos: await ddos.setRules(principal, body.rules) }));
  route(setDdosThresholds, async ({ principal, body }) => ({
    ddos: await ddos.setThresholds(principal, body.thresholds),
  }));
  route(listDdosAttacks, ({ principal, query }) => ddos.listAttacks(principal, query));
  route(getDdosAttack, async ({ principal, params }) => ({ attack: await ddos.getAttack(principal, params.id) }));
  route(listLiveAttacks, async ({ principal }) => ({ attacks: await ddos.liveAttacks(principal) }));
}
