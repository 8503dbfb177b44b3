/**
 * Characters that may not reach a guest's configuration or a log line from user input: C0 controls (tab
 * and newline included), DEL, C1 controls (U+0085 is a YAML 1.1 line break), U+2028/U+2029 (line and
 * paragraph separators, line breaks to PyYAML, which cloud-init uses) and U+FEFF (byte order mark). A line
 * break inside an SSH key's comment is how a comment became a second key.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafeCharacter = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u;

/** The first unsafe character of `text`, described (`U+2028 at 27`), or null. Pure. */
export function unsafeTextCharacter(text: string): string | null {
  const match = unsafeCharacter.exec(text);
  if (match) {
    const code = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `U+${code} at ${match.index}`;
  }
  if (!text.isWellFormed()) return 'a lone surrogate';
  return null;
}
