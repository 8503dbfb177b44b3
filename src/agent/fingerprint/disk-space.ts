/** Free space of the filesystem holding `path` (the agent's state dir), GiB, for `HostTopology.diskGiB`. */
import { statfs } from 'node:fs/promises';

export async function diskGiBFree(path: string): Promise<number> {
  const stats = await statfs(path);
  return Math.floor((stats.bavail * stats.bsize) / 1024 ** 3);
}
