/**
 * The accounting table on a qemu host (nftables): per server, named counters of bytes to and from the
 * provider's own sites (unmetered) and everywhere else (metered). The rules carry no verdict, so they can
 * never let through what a firewall drops; they live in their own table (`vmcloud_acct`), so a firewall
 * reload never resets them. The ruleset text is a pure function; `nft -j list counters` is parsed here.
 */

export interface AccountedTap {
  /** The tap interface on the host. */
  ifname: string;
  /** A key naming the server's counters (letters, digits, `_`). */
  key: string;
}

export const accountingTable = 'vmcloud_acct';

const nameOk = (name: string) => /^[A-Za-z0-9_]{1,48}$/.test(name);

/** The counters a server has: `<key>_{tx,rx}_{metered,unmetered}` (tx: what the server sent). */
export const counterNames = (key: string) => ({
  txMetered: `${key}_tx_metered`,
  txUnmetered: `${key}_tx_unmetered`,
  rxMetered: `${key}_rx_metered`,
  rxUnmetered: `${key}_rx_unmetered`,
});

/** The whole accounting table, replaced atomically (`nft -f`): a flush then the definition. */
export function accountingRuleset(input: {
  unmetered4: readonly string[];
  unmetered6: readonly string[];
  taps: readonly AccountedTap[];
}): string {
  for (const tap of input.taps) {
    if (!nameOk(tap.key)) throw new RangeError(`bad counter key ${tap.key}`);
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(tap.ifname)) throw new RangeError(`bad interface ${tap.ifname}`);
  }
  const set = (name: string, type: string, elements: readonly string[]) =>
    `  set ${name} { type ${type}; flags interval;${elements.length ? ` elements = { ${elements.join(', ')} };` : ''} }`;
  const lines = [
    `table inet ${accountingTable} {}`,
    `flush table inet ${accountingTable}`,
    `table inet ${accountingTable} {`,
    set('unmetered4', 'ipv4_addr', input.unmetered4),
    set('unmetered6', 'ipv6_addr', input.unmetered6),
  ];
  for (const tap of input.taps) {
    const c = counterNames(tap.key);
    for (const name of Object.values(c)) lines.push(`  counter ${name} {}`);
  }
  lines.push('  chain forward_acct {', '    type filter hook forward priority -10; policy accept;');
  for (const tap of input.taps) {
    const c = counterNames(tap.key);
    // From the guest (host rx on the tap): the server sent it.
    lines.push(
      `    iifname "${tap.ifname}" ip daddr @unmetered4 counter name ${c.txUnmetered}`,
      `    iifname "${tap.ifname}" ip6 daddr @unmetered6 counter name ${c.txUnmetered}`,
      `    iifname "${tap.ifname}" ip daddr != @unmetered4 counter name ${c.txMetered}`,
      `    iifname "${tap.ifname}" ip6 daddr != @unmetered6 counter name ${c.txMetered}`,
      `    oifname "${tap.ifname}" ip saddr @unmetered4 counter name ${c.rxUnmetered}`,
      `    oifname "${tap.ifname}" ip6 saddr @unmetered6 counter name ${c.rxUnmetered}`,
      `    oifname "${tap.ifname}" ip saddr != @unmetered4 counter name ${c.rxMetered}`,
      `    oifname "${tap.ifname}" ip6 saddr != @unmetered6 counter name ${c.rxMetered}`,
    );
  }
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

/** `nft -j list counters table inet …` → name → { packets, bytes }. */
export function parseNftCounters(json: string): Map<string, { packets: number; bytes: number }> {
  const out = new Map<string, { packets: number; bytes: number }>();
  const doc = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  for (const item of doc.nftables ?? []) {
    const counter = item.counter as { name?: string; packets?: number; bytes?: number } | undefined;
    if (counter?.name !== undefined)
      out.set(counter.name, { packets: Number(counter.packets ?? 0), bytes: Number(counter.bytes ?? 0) });
  }
  return out;
}
