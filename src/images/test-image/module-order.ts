/**
 * Kernel modules to load, in load order, from `modules.dep` (`path: dep1 dep2 …`, where the deps must be
 * loaded last-listed first, as modprobe does).
 */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const module = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(module, rest ? rest.split(/\s+/) : []);
  }
  return deps;
}

/** Module name as `insmod`/`lsmod` spell it: `kernel/drivers/block/virtio_blk.ko` → `virtio_blk`. */
export function moduleName(path: string): string {
  return (path.split('/').pop() ?? path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');
}

/** Paths of `wanted` (by name) and their dependencies, each after its own dependencies, without repeats. */
export function moduleLoadOrder(deps: Map<string, string[]>, wanted: string[]): string[] {
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(moduleName(path), path);
  const order: string[] = [];
  const visit = (path: string, stack: Set<string>) => {
    if (order.includes(path) || stack.has(path)) return;
    stack.add(path);
    for (const dep of [...(deps.get(path) ?? [])].reverse()) visit(dep, stack);
    stack.delete(path);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name.replaceAll('-', '_'));
    if (!path) throw new Error(`kernel module ${name} is not in modules.dep`);
    visit(path, new Set());
  }
  return order;
}
