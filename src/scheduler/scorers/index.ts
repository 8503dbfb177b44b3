import { aligned, alignedExact, nodeAligned } from './aligned.ts';
import { bestFit } from './best-fit.ts';
import { spread } from './spread.ts';
import { weighted } from './weighted.ts';

export type { NodeView, Scorer } from './scorer.ts';
export { nodeKey } from './scorer.ts';
export { aligned, alignedExact, nodeAligned } from './aligned.ts';
export { bestFit } from './best-fit.ts';
export { spread } from './spread.ts';
export { weighted } from './weighted.ts';

/** Every scorer by name (the benchmark's `--scorer`). */
export const scorers = {
  'best-fit': bestFit,
  spread,
  aligned,
  'aligned-exact': alignedExact,
  'node-aligned': nodeAligned,
  weighted,
} as const;
