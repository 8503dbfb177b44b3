/**
 * The `/init` of the test guest (busybox sh). It prints the userspace marker first thing, then loads the
 * virtio/ACPI modules, starts busybox `acpid` (ACPI power button → `poweroff -f`), reads the NoCloud seed
 * (hostname, SSH keys, network address, a `#!` user-data script) and leaves a shell on the serial console.
 */
export const guestMarkers = {
  /** Printed by /init before anything else: the guest has reached userspace. */
  userspace: 'VMCLOUD-GUEST-UP',
  /** `VMCLOUD-HOSTNAME <name>` once the NoCloud hostname is applied. */
  hostname: 'VMCLOUD-HOSTNAME',
  /** `VMCLOUD-DISK <first bytes of /dev/vda>`: shows the root disk (through its overlay). */
  disk: 'VMCLOUD-DISK',
  /** Printed when the seed is applied and acpid runs: the console shell follows. */
  ready: 'VMCLOUD-GUEST-READY',
} as const;

/** The first bytes of the test image's disk, printed by the guest as `VMCLOUD-DISK <marker>`. */
export const testDiskMarker = 'VMCLOUD-TEST-DISK-V1';

export function guestInitScript(moduleFiles: string[]): string {
  return `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
echo "${guestMarkers.userspace} uptime=$(cut -d' ' -f1 /proc/uptime)"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /run /var/log /var/run /mnt/seed /root/.ssh
mount -t devpts devpts /dev/pts
hostname vmcloud-test
for module in ${moduleFiles.map((file) => `/lib/modules/${file}`).join(' ')}; do
  insmod "$module" 2>/dev/null
done
acpid -c /etc/acpi -l /var/log/acpid.log -p /run/acpid.pid
seed=''
tries=0
while [ -z "$seed" ] && [ $tries -lt 20 ]; do
  for block in /sys/block/vd*; do
    [ "$(cat "$block/serial" 2>/dev/null)" = cidata ] && seed="/dev/\${block##*/}"
  done
  [ -z "$seed" ] && seed="$(findfs LABEL=cidata 2>/dev/null)"
  [ -z "$seed" ] && { tries=$((tries + 1)); usleep 50000; }
done
echo "${guestMarkers.disk} $(head -c ${testDiskMarker.length} /dev/vda 2>/dev/null)"
if [ -n "$seed" ] && mount -t iso9660 -o ro "$seed" /mnt/seed; then
  name="$(sed -n 's/^local-hostname: *//p' /mnt/seed/meta-data | tr -d '"')"
  [ -n "$name" ] && hostname "$name" && echo "${guestMarkers.hostname} $name"
  sed -n 's/^ *- *"*\\(ssh-[a-z0-9-]* [^"]*\\)"* *$/\\1/p; s/^ *- *"*\\(ecdsa-[a-z0-9-]* [^"]*\\)"* *$/\\1/p' /mnt/seed/meta-data > /root/.ssh/authorized_keys
  address="$(sed -n 's/^ *- *"*\\([0-9.]*\\/[0-9]*\\)"* *$/\\1/p' /mnt/seed/network-config 2>/dev/null | head -n 1)"
  if [ -n "$address" ] && [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up && ip addr add "$address" dev eth0 && echo "VMCLOUD-NET $address"
  fi
  if [ "$(head -c 2 /mnt/seed/user-data)" = '#!' ]; then
    cp /mnt/seed/user-data /tmp/user-data && chmod +x /tmp/user-data
    /tmp/user-data
    echo "VMCLOUD-USERDATA rc=$?"
  fi
fi
echo "${guestMarkers.ready} hostname=$(hostname) uptime=$(cut -d' ' -f1 /proc/uptime)"
while true; do
  setsid cttyhack sh -l
done
`;
}

/** busybox acpid runs `<confdir>/PWRF/00000080` when the ACPI power button is pressed (QMP system_powerdown). */
export const powerButtonAction = '#!/bin/sh\nsync\npoweroff -f\n';
