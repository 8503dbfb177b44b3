/**
 * The status domain: components and their status (probes, host states, hysteresis), incidents and
 * maintenances, the public status page (HTML, Statuspage v2 JSON, Atom) and the seed's promises measured.
 * Tables: status_incidents, status_incident_updates, status_maintenances, status_components,
 * status_probe_results, status_daily_rollups, status_settings (migration 017).
 */
export type * from './tables.ts';
export {
  createStatusService,
  defaultStatusOptions,
  type StatusService,
  type StatusServiceDeps,
  type StatusOptions,
  type StatusProbes,
  type StatusRegion,
  type StatusSnapshot,
  type PromiseSources,
} from './service.ts';
export { createStatusProbes, type ProbeDeps } from './probes.ts';
export { renderStatusPage, pickLanguage, type Language } from './page.ts';
export { statuspageDocuments } from './statuspage.ts';
export { renderAtom } from './atom.ts';
