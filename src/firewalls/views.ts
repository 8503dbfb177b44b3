/** Firewalls as the API shows them (the contract's `Firewall`). Pure. */
import type { AppliedTo, Firewall } from '../contract/index.ts';
import { matchesSelector, parseSelector, type LabeledServer } from '../compute/index.ts';
import type { CounterRecord, FirewallRecord, TargetRecord } from './store.ts';

export function firewallView(
  firewall: FirewallRecord,
  parts: { targets: TargetRecord[]; counters: CounterRecord[]; projectServers: LabeledServer[] },
): Firewall {
  const current = parts.counters.filter((c) => c.rulesVersion === firewall.rulesVersion);
  const appliedTo: AppliedTo[] = parts.targets.map((t) =>
    t.kind === 'server'
      ? { type: 'server', server: { id: t.target } }
      : {
          type: 'label_selector',
          label_selector: { selector: t.target },
          applied_to_resources: parts.projectServers
            .filter((s) => matchesSelector(s.labels, parseSelector(t.target)))
            .map((s) => ({ type: 'server' as const, server: { id: s.id } })),
        },
  );
  const updatedAt = current.reduce<string | null>(
    (max, c) => (max === null || c.updatedAt > max ? c.updatedAt : max),
    null,
  );
  return {
    id: firewall.id,
    name: firewall.name,
    project_id: firewall.projectId,
    labels: firewall.labels,
    rules: firewall.rules.map((rule, index) => {
      const mine = current.filter((c) => c.ruleIndex === index);
      return {
        ...rule,
        counters: {
          packets: mine.reduce((sum, c) => sum + c.packets, 0),
          bytes: mine.reduce((sum, c) => sum + c.bytes, 0),
        },
      };
    }),
    rules_version: firewall.rulesVersion,
    applied_to: appliedTo,
    counters_updated_at: updatedAt,
    created_at: firewall.createdAt,
    updated_at: firewall.updatedAt,
  };
}
