import { invalid } from '../core/index.ts';

/**
 * Kubernetes-style labels and selectors. Keys: optional DNS prefix + `/` + name of 1–63 characters
 * ([a-z0-9A-Z] with -_. inside); values: empty or 1–63 of the same characters.
 */
const namePart = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const prefixPart = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export type Labels = Record<string, string>;

export function isValidLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return namePart.test(key);
  return prefixPart.test(key.slice(0, slash)) && namePart.test(key.slice(slash + 1));
}

export function isValidLabelValue(value: string): boolean {
  return value === '' || namePart.test(value);
}

export function validateLabels(labels: unknown, field = 'labels'): Labels {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels))
    throw invalid('labels must be an object of strings', { fields: [{ field, message: 'must be an object' }] });
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > 64) throw invalid('at most 64 labels', { fields: [{ field, message: 'at most 64 labels' }] });
  const out: Labels = {};
  for (const [key, value] of entries) {
    if (!isValidLabelKey(key))
      throw invalid(`label key "${key}" is not valid`, {
        fields: [{ field: `${field}.${key}`, message: 'invalid key: [prefix/]name of 1-63 alphanumerics, - _ .' }],
      });
    if (typeof value !== 'string' || !isValidLabelValue(value))
      throw invalid(`label value of "${key}" is not valid`, {
        fields: [{ field: `${field}.${key}`, message: 'value must be empty or 1-63 alphanumerics, - _ .' }],
      });
    out[key] = value;
  }
  return out;
}

export type SelectorRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

/** Parses `env=prod,tier!=db,region in (fra1,par1),!legacy,team`. */
export function parseSelector(text: string): SelectorRequirement[] {
  const requirements: SelectorRequirement[] = [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '' || parts.length > 0) parts.push(current);
  const fail = (part: string) =>
    invalid(`label_selector part "${part.trim()}" is not valid`, {
      fields: [{ field: 'label_selector', message: `cannot parse "${part.trim()}"` }],
    });
  for (const raw of parts) {
    const part = raw.trim();
    let match: RegExpMatchArray | null;
    if ((match = part.match(/^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = match[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (!isValidLabelKey(match[1]) || values.some((v) => !isValidLabelValue(v))) throw fail(part);
      requirements.push({ key: match[1], op: match[2] as 'in' | 'notin', values });
    } else if ((match = part.match(/^([^\s!=()]+)\s*(!=|==|=)\s*([^\s!=()]*)$/))) {
      if (!isValidLabelKey(match[1]) || !isValidLabelValue(match[3])) throw fail(part);
      requirements.push({ key: match[1], op: match[2] === '!=' ? 'neq' : 'eq', value: match[3] });
    } else if ((match = part.match(/^!\s*([^\s!=()]+)$/))) {
      if (!isValidLabelKey(match[1])) throw fail(part);
      requirements.push({ key: match[1], op: 'absent' });
    } else if (isValidLabelKey(part)) {
      requirements.push({ key: part, op: 'exists' });
    } else throw fail(part);
  }
  return requirements;
}

export function matchesSelector(labels: Labels, requirements: SelectorRequirement[]): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'eq':
        return has && labels[r.key] === r.value;
      case 'neq':
        return !has || labels[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(labels[r.key]);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]);
      case 'exists':
        return has;
      case 'absent':
        return !has;
    }
  });
}
