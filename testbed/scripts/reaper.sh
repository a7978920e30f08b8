#!/bin/sh
# Outlives the test process if it is killed without running 'exit' handlers (SIGKILL, a crash):
# waits for its stdin, a pipe from that process, to reach EOF, then ends the namespace and
# removes what was created.
p=$1; cg=$2; dir=$3
while read -r _; do :; done
if [ "$(cat /proc/$p/comm 2>/dev/null)" = systemd ]; then kill -9 "$p" 2>/dev/null; fi
i=0
while [ -n "$cg" ] && [ -d "$cg" ] && [ $i -lt 100 ]; do
  find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || sleep 0.1
  i=$((i + 1))
done
rm -f "$dir/boot.log"; rmdir "$dir/mnt" "$dir" 2>/dev/null
