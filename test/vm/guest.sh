#!/bin/sh
# Load the project's kernel module(s), run a command, unload them.
# Exits with the command's exit code, or 1 when it succeeded but unloading
# failed or the kernel warned/oopsed meanwhile. POSIX sh (dash, busybox sh).
# Runs as root wherever modules may be loaded: inside the QEMU guest
# (test/vm/init calls it), or directly in a privileged container or a VM:
#   make -C /lib/modules/$(uname -r)/build M=$PWD/kernel-module modules
#   sudo test/vm/guest.sh -- COMMAND [ARGS...]
# MODULE_DIR overrides where the .ko files are (default: <repo>/kernel-module).
usage() { echo "usage: $0 [--no-module] -- COMMAND [ARGS...]"; }
load=1
while [ $# -gt 0 ]; do
  case $1 in
  --no-module) load=0 ;;
  --) shift; break ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
  shift
done
[ $# -gt 0 ] || { usage >&2; exit 2; }
say() { echo "[guest.sh] $*" >&2; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
moddir=${MODULE_DIR:-$repo/kernel-module}
# The pinned deno and bun (sudo resets PATH).
[ -d "$repo/node_modules/.bin" ] && PATH="$repo/node_modules/.bin:$PATH"
# kmod may be missing in a slim container; busybox has the same applets.
for t in insmod rmmod modinfo; do
  command -v $t >/dev/null 2>&1 || eval "$t() { busybox $t \"\$@\"; }"
done
loaded() { grep -q "^$1 " /proc/modules; }

# Taint bits that mean the kernel hit a bug: 5 bad page, 7 oops (died),
# 9 WARN, 14 soft lockup. Unsigned/out-of-tree taints (12, 13) are expected.
bad_taint=$(((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)))
taint0=$(cat /proc/sys/kernel/tainted)

names=
if [ $load = 1 ]; then
  set_ko=$(ls "$moddir"/*.ko 2>/dev/null)
  [ -n "$set_ko" ] || { say "no .ko in $moddir; build it: make -C /lib/modules/$(uname -r)/build M=$moddir modules"; exit 1; }
  for ko in $set_ko; do
    name=$(basename "$ko" .ko | tr - _)
    vm=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
    [ "$vm" = "$(uname -r)" ] || { say "$ko was built for $vm, this kernel is $(uname -r): rebuild it (make -C /lib/modules/$(uname -r)/build M=$moddir modules)"; exit 1; }
    if loaded "$name"; then # left over from an earlier run on this host
      rmmod "$name" || { say "$name is already loaded and cannot be unloaded"; exit 1; }
    fi
    insmod "$ko" || { say "insmod $ko failed"; exit 1; }
    names="$name${names:+ $names}" # reverse order for unloading
  done
  say "loaded: $names"
fi

# An interrupt should still unload: let the command die, not this script.
trap 'say interrupted' INT TERM
"$@"
rc=$?
trap - INT TERM

for name in $names; do
  if rmmod "$name"; then
    say "unloaded: $name"
  else
    say "FAILED: rmmod $name (still in use? refcount leak?)"
    [ $rc = 0 ] && rc=1
  fi
done
taint1=$(cat /proc/sys/kernel/tainted)
if [ $(((taint1 & ~taint0) & bad_taint)) != 0 ]; then
  say "FAILED: the kernel warned or oopsed (tainted $taint0 -> $taint1); kernel log tail:"
  dmesg | tail -n 60 >&2
  [ $rc = 0 ] && rc=1
fi
exit $rc
