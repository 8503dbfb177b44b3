/** `0-3,8,10-11` → [0,1,2,3,8,10,11]: the kernel's cpulist format (also used for NUMA node lists). Pure. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [first, last] = part.split('-').map((value) => Number.parseInt(value, 10));
    if (Number.isNaN(first)) continue;
    const end = last === undefined || Number.isNaN(last) ? first : last;
    for (let cpu = first; cpu <= end; cpu++) out.push(cpu);
  }
  return out;
}
