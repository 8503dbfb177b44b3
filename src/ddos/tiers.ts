/**
 * DDoS protection tiers (the seed: Standard 100 Gbps automatic; Business 500 Gbps automatic + custom rules;
 * Enterprise 1 Tbps+, dedicated SOC): what each one detects, how it mitigates and for how long. The
 * scrubbing capacity is the provider's network; what decides, shows and bills it is this table.
 */

export const ddosTiers = ['standard', 'business', 'enterprise'] as const;
export type DdosTier = (typeof ddosTiers)[number];

export interface TierPolicy {
  tier: DdosTier;
  /** Upstream scrubbing capacity the provider's contract names (shown, not enforced here). */
  scrubbingCapacityGbps: number;
  /** Detection floors: below these nothing is an attack, whatever the baseline. */
  minPps: number;
  minBps: number;
  /** How many mean deviations above the learned baseline make an attack. */
  deviations: number;
  /** …and at least this multiple of the baseline mean (a busy server is not flagged for being busy). */
  baselineMultiple: number;
  /** Mitigation ends after this long without an observation above the threshold. */
  quietMs: number;
  /** Custom allow/deny rules through the API. */
  customRules: boolean;
  /** Per-address detection thresholds through the API. */
  perAddressThresholds: boolean;
  /** The operators' live-attack view lists this project's attacks with priority (the SOC). */
  soc: boolean;
  /** Per-source packet limit during mitigation (packets/s from one source address). */
  perSourcePps: number;
  /** SYN rate limit towards the address during mitigation. */
  synPps: number;
  /** Above this rate the attack is also announced to the upstream scrubbing partner. */
  upstreamAboveBps: number;
}

const minute = 60_000;

export const tierPolicies: Record<DdosTier, TierPolicy> = {
  standard: {
    tier: 'standard',
    scrubbingCapacityGbps: 100,
    minPps: 20_000,
    minBps: 1_000_000_000,
    deviations: 6,
    baselineMultiple: 4,
    quietMs: 10 * minute,
    customRules: false,
    perAddressThresholds: false,
    soc: false,
    perSourcePps: 2_000,
    synPps: 5_000,
    upstreamAboveBps: 5_000_000_000,
  },
  business: {
    tier: 'business',
    scrubbingCapacityGbps: 500,
    minPps: 20_000,
    minBps: 1_000_000_000,
    deviations: 5,
    baselineMultiple: 3,
    quietMs: 15 * minute,
    customRules: true,
    perAddressThresholds: false,
    soc: false,
    perSourcePps: 2_000,
    synPps: 10_000,
    upstreamAboveBps: 5_000_000_000,
  },
  enterprise: {
    tier: 'enterprise',
    scrubbingCapacityGbps: 1000,
    minPps: 10_000,
    minBps: 500_000_000,
    deviations: 4,
    baselineMultiple: 3,
    quietMs: 30 * minute,
    customRules: true,
    perAddressThresholds: true,
    soc: true,
    perSourcePps: 2_000,
    synPps: 20_000,
    upstreamAboveBps: 2_000_000_000,
  },
};

export const isDdosTier = (value: string): value is DdosTier => (ddosTiers as readonly string[]).includes(value);
