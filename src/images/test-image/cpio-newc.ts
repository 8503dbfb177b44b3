/**
 * Writes a cpio archive in the `newc` format the Linux kernel unpacks as an initramfs: directories, regular
 * files, symlinks and device nodes, without needing root or the cpio binary.
 */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const typeBits = { dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;
const defaultMode = { dir: 0o755, file: 0o644, symlink: 0o777, chardev: 0o600 } as const;

const hex8 = (value: number) => value.toString(16).padStart(8, '0');
const pad4 = (length: number) => (4 - (length % 4)) % 4;

function header(fields: {
  ino: number;
  mode: number;
  nlink: number;
  fileSize: number;
  rdevMajor: number;
  rdevMinor: number;
  nameSize: number;
}): string {
  return (
    '070701' +
    [
      fields.ino,
      fields.mode,
      0,
      0,
      fields.nlink,
      0,
      fields.fileSize,
      0,
      0,
      fields.rdevMajor,
      fields.rdevMinor,
      fields.nameSize,
      0,
    ]
      .map(hex8)
      .join('')
  );
}

export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const push = (name: string, mode: number, data: Uint8Array, ino: number, rdev: [number, number], nlink: number) => {
    const nameBytes = Buffer.from(name + '\0');
    const head = Buffer.from(
      header({
        ino,
        mode,
        nlink,
        fileSize: data.length,
        rdevMajor: rdev[0],
        rdevMinor: rdev[1],
        nameSize: nameBytes.length,
      }),
      'latin1',
    );
    parts.push(
      head,
      nameBytes,
      Buffer.alloc(pad4(head.length + nameBytes.length)),
      Buffer.from(data),
      Buffer.alloc(pad4(data.length)),
    );
  };
  entries.forEach((entry, i) => {
    const path = entry.path.replace(/^\/+/, '');
    const ino = i + 1;
    switch (entry.type) {
      case 'dir':
        push(path, typeBits.dir | (entry.mode ?? defaultMode.dir), new Uint8Array(0), ino, [0, 0], 2);
        break;
      case 'file':
        push(path, typeBits.file | (entry.mode ?? defaultMode.file), entry.data, ino, [0, 0], 1);
        break;
      case 'symlink':
        push(path, typeBits.symlink | defaultMode.symlink, Buffer.from(entry.target), ino, [0, 0], 1);
        break;
      case 'chardev':
        push(
          path,
          typeBits.chardev | (entry.mode ?? defaultMode.chardev),
          new Uint8Array(0),
          ino,
          [entry.major, entry.minor],
          1,
        );
        break;
    }
  });
  push('TRAILER!!!', 0, new Uint8Array(0), 0, [0, 0], 1);
  return Buffer.concat(parts);
}
