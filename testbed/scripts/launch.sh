#!/bin/sh
# The launcher: joins the private cgroup (when there is one), then becomes unshare, which runs
# inner.sh as PID 1 of new pid, mount, uts, ipc, cgroup and network namespaces.
cg=$1; inner=$2; shift 2
if [ -n "$cg" ]; then echo $$ > "$cg/cgroup.procs" || exit 97; fi
exec unshare --pid --fork --mount --uts --ipc --cgroup --net /bin/sh "$inner" "$@"
