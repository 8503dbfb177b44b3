/**
 * The seed's SLA tiers: monthly availability target, MTTR target, credit multiplier — and the surcharge
 * each tier adds to server charges (the seed gives none; our choice, docs/billing.md).
 */
export const slaTierNames = ['standard', 'business', 'enterprise'] as const;
export type SlaTier = (typeof slaTierNames)[number];

export interface SlaTierTerms {
  /** Availability target per 100 000: 99.9 % = 99 900. */
  targetPer100k: number;
  /** Display form of the target. */
  targetPercent: string;
  mttrTargetMinutes: number;
  creditMultiplier: number;
  surchargePercent: number;
}

export const slaTiers: Record<SlaTier, SlaTierTerms> = {
  standard: {
    targetPer100k: 99_900,
    targetPercent: '99.9',
    mttrTargetMinutes: 240,
    creditMultiplier: 10,
    surchargePercent: 0,
  },
  business: {
    targetPer100k: 99_950,
    targetPercent: '99.95',
    mttrTargetMinutes: 120,
    creditMultiplier: 25,
    surchargePercent: 20,
  },
  enterprise: {
    targetPer100k: 99_990,
    targetPercent: '99.99',
    mttrTargetMinutes: 30,
    creditMultiplier: 50,
    surchargePercent: 50,
  },
};

export const isSlaTier = (value: string): value is SlaTier => (slaTierNames as readonly string[]).includes(value);
