#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Exercise every command of the nltest module with tools/nltest_client, as
# root, with the module loaded (it is unloaded and reloaded on the way: the
# module is loaded again at the end). From the repository root:
#
#   make -C kernel-module tools
#   cc -O2 -I kernel-module -o bench/flood_recv bench/flood_recv.c
#   test/vm/run -- sh kernel-module/tools/selftest.sh
#
# Prints one "PASS"/"FAIL" line per check; exits 1 if any check failed. The
# client's own output (indented lines, "OK <command>") is shown as well.
here=$(cd "$(dirname "$0")" && pwd)
KO=${NLTEST_KO:-$here/../nltest.ko}
C=$here/nltest_client
BENCH=$here/../../bench/flood_recv
[ -x "$C" ] || { echo "build the client first: make -C kernel-module tools"; exit 1; }
grep -q "^nltest " /proc/modules || insmod "$KO" || exit 1

failed=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# t NAME COMMAND...: the command must succeed
t() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
# out NAME PATTERN COMMAND...: the command must succeed and print PATTERN
out() {
	name=$1 pattern=$2
	shift 2
	o=$("$@" 2>&1)
	rc=$?
	echo "$o"
	if [ $rc = 0 ] && echo "$o" | grep -q -- "$pattern"; then
		pass "$name"
	else
		fail "$name"
	fi
}
flood_threads() { grep -l nltest-flood /proc/[0-9]*/comm 2>/dev/null | wc -l; }
reload() {
	grep -q "^nltest " /proc/modules && rmmod nltest
	insmod "$KO" "$@"
}

echo "=== classic unit"
t "echo + ack" "$C" echo "hello netlink"
t "fail with errno, message, offset, missing type" "$C" fail 22 "custom message" 9
t "fail default message" "$C" fail 95
t "errno 0: warning + cookie in the ack" "$C" fail 0
t "policy/handler rejections" "$C" bad
t "multicast to group 42" "$C" mcast 42
t "multicast to group 64" "$C" mcast 64
t "multicast to group 1" "$C" mcast 1
t "get one entry" "$C" get 9
out "dump 10000 entries" "entries=10000" "$C" dump 10000
out "dump: DUMP_INTR on entry 5000" "NLM_F_DUMP_INTR on entry 5000" "$C" dump 10000 5000
out "dump: DUMP_INTR on NLMSG_DONE" "done_intr=1" "$C" dump 100 100
out "dump ending in an error with ext-ack" "done_error=-5 done_intr=0 msg=" "$C" dump 50 0 0 5
t "dump with 4096-byte entries" "$C" dump 200 0 4096
t "kernel-initiated ticks, group 40" "$C" ticks 40 50 5
t "kernel-initiated ticks, group 64" "$C" ticks 64 20 3
"$C" listen 63 4 3000 >/tmp/nltest-listen.out 2>&1 &
sleep 1
t "timer with a count limit" "$C" timer-start 63 10 3
wait
# 4 were asked for so that a 4th would be seen: the client's own FAIL is expected
sed 's/^FAIL listen/(as expected) listen/' /tmp/nltest-listen.out
grep -q "received 3 message" /tmp/nltest-listen.out && pass "  ... sends exactly 3" || fail "  ... sends exactly 3"
if "$C" listen 63 1 300 >/dev/null; then fail "  ... and stops"; else pass "  ... and stops"; fi
t "timer stop (all)" "$C" timer-stop

echo "=== floods"
out "lossless flood 100000 x 64" "lost=0 enobufs=0" "$C" flood 100000 64 lossless
out "lossless flood, 64 per datagram" "lost=0 enobufs=0" "$C" flood 100000 16 lossless 64
out "lossless flood, 32000-byte messages, small rcvbuf" "lost=0" "$C" flood 500 32000 lossless 1 0 65536
o=$("$C" flood 100000 64 lossy 1 200)
echo "$o"
if echo "$o" | grep -q "^OK" && ! echo "$o" | grep -q "enobufs=0 "; then
	pass "lossy flood overruns: drops + ENOBUFS, counts add up"
else
	fail "lossy flood overruns: drops + ENOBUFS, counts add up"
fi
t "empty flood" "$C" flood 0 16 lossless
t "receiver closes mid-flood" "$C" flood-close 1000000
sleep 1
[ "$(flood_threads)" = 0 ] && pass "  ... flood thread gone" || fail "  ... flood thread gone"
if [ -x "$BENCH" ]; then
	out "bench/flood_recv 100000 x 64" '"out_of_order":0' "$BENCH" -n 100000 -s 64
	out "bench/flood_recv 1000000 x 16, batch 64" '"out_of_order":0' "$BENCH" -n 1000000 -s 16 -b 64
fi

echo "=== generic netlink"
t "CTRL_CMD_GETFAMILY nltest" "$C" genl-resolve
t "genl echo + policy rejections with ext-ack" "$C" genl-echo "hi" 42
t "genl notify -> events group" "$C" genl-notify
t "genl dump" "$C" genl-list 5000
if command -v python3 >/dev/null; then
	t "nltest.yaml matches the live family" python3 "$here/check_spec.py"
fi

echo "=== network namespaces"
unshare -n "$C" listen 5 1 2500 >/dev/null 2>&1 &
sleep 1
"$C" send 5 from-init-ns >/dev/null
if wait $!; then fail "other netns does not see init-netns multicast"; else pass "other netns does not see init-netns multicast"; fi
t "same netns sees it" unshare -n sh -c "'$C' listen 5 1 2500 & sleep 1; '$C' send 5 same-ns >/dev/null; wait \$!"
t "echo, genl, mcast > 32, dump in a new netns" unshare -n sh -c "'$C' echo && '$C' genl-echo && '$C' mcast 33 && '$C' dump 1000"
unshare -n "$C" genl-listen 1 2500 >/dev/null 2>&1 &
sleep 1
"$C" genl-notify >/dev/null
if wait $!; then fail "genl events stay in their netns"; else pass "genl events stay in their netns"; fi
t "netns exit with a timer and a blocked flood" unshare -n sh -c "'$C' timer-start 7 5 && ('$C' flood-hang 1000000 1 &) && sleep 0.5 && '$C' listen 7 3 1000"
sleep 1
[ "$(flood_threads)" = 0 ] && pass "  ... flood thread gone" || fail "  ... flood thread gone"
i=0
pids=
while [ $i -lt 8 ]; do
	unshare -n sh -c "'$C' timer-start 9 1 >/dev/null && '$C' flood 20000 64 lossless >/dev/null" &
	pids="$pids $!"
	i=$((i + 1))
done
ok=0
for p in $pids; do wait "$p" && ok=$((ok + 1)); done
[ $ok = 8 ] && pass "8 namespaces flooding at once" || fail "8 namespaces flooding at once ($ok/8)"

echo "=== unloading"
out "rmmod with open unit + genl sockets, subscriptions, timer" "new unit socket: Protocol not supported" \
	sh -c "'$C' hold 4 & sleep 2; rmmod nltest; wait \$!"
reload || exit 1
"$C" flood-hang 1000000 8 >/dev/null &
sleep 2
[ "$(flood_threads)" = 1 ] && pass "lossless flood blocked on a full receiver" || fail "lossless flood blocked on a full receiver"
t "rmmod aborts the blocked flood" rmmod nltest
[ "$(flood_threads)" = 0 ] && pass "  ... flood thread gone" || fail "  ... flood thread gone"
wait
reload || exit 1
"$C" dump-hold 10000 3 >/dev/null &
sleep 1.5
if rmmod nltest 2>/dev/null; then fail "rmmod refused while a dump is unfinished"; else pass "rmmod refused while a dump is unfinished"; fi
wait
t "rmmod once the dump socket is closed" rmmod nltest
insmod "$KO" pin=1 || exit 1
"$C" hold 3 >/dev/null &
sleep 1.5
if rmmod nltest 2>/dev/null; then fail "pin=1: rmmod refused while a unit socket is open"; else pass "pin=1: rmmod refused while a unit socket is open"; fi
wait
t "pin=1: rmmod after close" rmmod nltest
insmod "$KO" unit=31 || exit 1
t "unit=31" "$C" -u 31 echo
reload || exit 1

if dmesg | grep -q "still waiting for netlink senders"; then fail "no stuck release"; fi
echo "=== $failed check(s) failed"
[ $failed = 0 ]
