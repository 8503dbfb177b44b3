export type { Scorer } from './scorer.ts';
export { bestFit } from './best-fit.ts';
export { spread } from './spread.ts';
