#!/bin/sh
# Run as PID 1 of the new namespaces. Arguments: $1 = mount point for the tmpfs (an empty
# directory), $2.. = host directories to bind read-write at the same path inside. $E2E_SYSTEMD is
# the systemd binary; $E2E_LOWER the overlay's read-only lower layer (the host's / by default, or a
# Debian root made by testbed/roots.js); $E2E_ENVIRONMENT, when set, becomes the manager's
# DefaultEnvironment= (every unit's environment). `set -e` and the final overlay check guarantee
# systemd is never exec'd on the host's root (its boot empties /tmp).
set -eu
B=$1; shift
mount --make-rprivate /
mount -t tmpfs -o mode=0700 sd-e2e "$B"
mkdir "$B/upper" "$B/work" "$B/root"
mount -t overlay overlay -o "lowerdir=${E2E_LOWER:-/},upperdir=$B/upper,workdir=$B/work" "$B/root"
R=$B/root
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
if [ "$E2E_CGROUP2" = 1 ]; then
  umount -R "$R/sys/fs/cgroup"
  mount -t cgroup2 -o nsdelegate cgroup2 "$R/sys/fs/cgroup"
fi
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
for d in "$@"; do
  if [ -d "$d" ]; then mkdir -p "$R$d"; else mkdir -p "$(dirname "$R$d")"; touch "$R$d"; fi
  mount --bind "$d" "$R$d"
done
# /tmp and /var/tmp are never systemd-tmpfiles' business in here: binds may live below them.
mkdir -p "$R/etc/tmpfiles.d"
: > "$R/etc/tmpfiles.d/tmp.conf"
mkdir -p "$R/etc/systemd/system"
if [ -n "${E2E_ENVIRONMENT:-}" ]; then
  mkdir -p "$R/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultEnvironment=%s\n' "$E2E_ENVIRONMENT" > "$R/etc/systemd/system.conf.d/e2e.conf"
fi
for u in $E2E_MASK; do ln -sfn /dev/null "$R/etc/systemd/system/$u"; done
mkdir -p "$R/run/systemd/system" "$R/oldroot"
cd "$R"
pivot_root . oldroot
umount -l /oldroot
rmdir /oldroot
[ "$(stat -f -c %T /)" = overlayfs ] || { echo "refusing to boot: / is not the overlay" >&2; exit 1; }
export container=other
exec "$E2E_SYSTEMD" --system --unit=multi-user.target
