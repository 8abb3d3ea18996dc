// SPDX-License-Identifier: GPL-2.0
/*
 * nltest_client - exercise every command of the nltest module.
 *
 * Build: make -C kernel-module tools   (or: cc -O2 -I kernel-module ...)
 * Usage: nltest_client [-u UNIT] COMMAND [ARGS...]; run without arguments
 * for the list. Each command prints what it received and ends with a line
 * "OK <command>" (exit 0) or "FAIL <command>: <why>" (exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nltest_uapi.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static int unit = NLTEST_UNIT_DEFAULT;
static const char *cmd_name = "?";
static uint32_t seq_counter = 1000;

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", cmd_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static int ok(void)
{
	printf("OK %s\n", cmd_name);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---------------- message building ---------------- */

struct msg {
	union {
		struct nlmsghdr nlh;
		char buf[70000];
	};
};

static struct nlmsghdr *msg_init(struct msg *m, uint16_t type, uint16_t flags)
{
	memset(&m->nlh, 0, sizeof(m->nlh));
	m->nlh.nlmsg_len = NLMSG_HDRLEN;
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	m->nlh.nlmsg_seq = ++seq_counter;
	return &m->nlh;
}

static void msg_put(struct msg *m, const void *data, size_t len)
{
	memcpy(m->buf + m->nlh.nlmsg_len, data, len);
	m->nlh.nlmsg_len += NLMSG_ALIGN(len);
}

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->nlh.nlmsg_len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->nlh.nlmsg_len += NLA_ALIGN(a->nla_len);
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_str(struct msg *m, uint16_t type, const char *s)
{
	put_attr(m, type, s, strlen(s) + 1);
}

/* ---------------- attribute parsing ---------------- */

#define MAX_TB 64

static void parse_attrs(const void *data, int len, const struct nlattr **tb)
{
	const struct nlattr *a = data;

	memset(tb, 0, sizeof(*tb) * MAX_TB);
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type < MAX_TB)
			tb[type] = a;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    NLA_ALIGN(a->nla_len));
	}
}

static const void *adata(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static int alen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static uint32_t a_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, adata(a), 4);
	return v;
}

static uint64_t a_u64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, adata(a), 8);
	return v;
}

/* ---------------- sockets ---------------- */

static uint32_t sock_portid(int fd)
{
	struct sockaddr_nl sa;
	socklen_t l = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &l) < 0)
		fail("getsockname: %s", strerror(errno));
	return sa.nl_pid;
}

static int nl_open(int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		fail("socket(AF_NETLINK, %d): %s", proto, strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("bind: %s", strerror(errno));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)))
		fail("NETLINK_EXT_ACK: %s", strerror(errno));
	return fd;
}

static void join_group(int fd, int group)
{
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group)) < 0)
		fail("NETLINK_ADD_MEMBERSHIP %d: %s", group, strerror(errno));
}

static int nl_send(int fd, struct msg *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(fd, m->buf, m->nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		      sizeof(sa));
}

static void nl_send_or_die(int fd, struct msg *m)
{
	if (nl_send(fd, m) < 0)
		fail("send: %s", strerror(errno));
}

/* recv with a timeout in ms (-1: forever); returns bytes, 0 on timeout,
 * -errno on error.
 */
static int nl_recv(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	if (timeout_ms >= 0) {
		n = poll(&p, 1, timeout_ms);
		if (n == 0)
			return 0;
	}
	n = recv(fd, buf, size, 0);
	if (n < 0)
		return -errno;
	return n;
}

static char rbuf[1 << 17];

/* ---------------- ack / error parsing ---------------- */

struct ack {
	int error;
	uint16_t flags;
	const char *msg;
	int has_offs;
	uint32_t offs;
	int has_miss;
	uint32_t miss_type;
	int cookie_len;
	unsigned char cookie[32];
	int has_policy;
};

static void parse_ack(const struct nlmsghdr *nlh, struct ack *ack)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const struct nlattr *tb[MAX_TB];
	const char *tlv;
	int len;

	memset(ack, 0, sizeof(*ack));
	ack->error = e->error;
	ack->flags = nlh->nlmsg_flags;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;

	tlv = (const char *)e + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		tlv += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (const char *)nlh + nlh->nlmsg_len - tlv;
	parse_attrs(tlv, len, tb);
	if (tb[NLMSGERR_ATTR_MSG])
		ack->msg = adata(tb[NLMSGERR_ATTR_MSG]);
	if (tb[NLMSGERR_ATTR_OFFS]) {
		ack->has_offs = 1;
		ack->offs = a_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		ack->has_miss = 1;
		ack->miss_type = a_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	}
	ack->has_policy = !!tb[NLMSGERR_ATTR_POLICY];
	if (tb[NLMSGERR_ATTR_COOKIE]) {
		ack->cookie_len = alen(tb[NLMSGERR_ATTR_COOKIE]);
		if (ack->cookie_len > (int)sizeof(ack->cookie))
			ack->cookie_len = sizeof(ack->cookie);
		memcpy(ack->cookie, adata(tb[NLMSGERR_ATTR_COOKIE]),
		       ack->cookie_len);
	}
}

static void print_ack(const struct ack *a)
{
	int i;

	printf("  ack: error=%d (%s)", a->error,
	       a->error ? strerror(-a->error) : "success");
	if (a->msg)
		printf(" msg=\"%s\"", a->msg);
	if (a->has_offs)
		printf(" offs=%u", a->offs);
	if (a->has_miss)
		printf(" miss_type=%u", a->miss_type);
	if (a->has_policy)
		printf(" +policy");
	if (a->cookie_len) {
		printf(" cookie=");
		for (i = 0; i < a->cookie_len; i++)
			printf("%02x", a->cookie[i]);
	}
	printf("\n");
}

/*
 * Receives until the ack for @seq arrives; other messages are handed to @cb
 * (may be NULL).
 */
static void wait_ack(int fd, uint32_t seq, struct ack *ack,
		     void (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	for (;;) {
		int n = nl_recv(fd, rbuf, sizeof(rbuf), 5000);
		struct nlmsghdr *nlh;

		if (n == 0)
			fail("timeout waiting for the ack of seq %u", seq);
		if (n < 0)
			fail("recv: %s", strerror(-n));
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_seq == seq) {
				parse_ack(nlh, ack);
				return;
			}
			if (cb)
				cb(nlh, arg);
		}
	}
}

/* ---------------- commands: classic unit ---------------- */

static int cmd_echo(int argc, char **argv)
{
	const char *text = argc > 0 ? argv[0] : "hello";
	int fd = nl_open(unit);
	uint32_t portid = sock_portid(fd);
	struct nlmsghdr *nlh;
	struct msg m;
	struct ack ack;
	bool got = false;
	int n;

	msg_init(&m, NLTEST_MSG_ECHO, NLM_F_ACK);
	msg_put(&m, text, strlen(text) + 1);
	nl_send_or_die(fd, &m);

	/* the echo first, then the ack */
	n = nl_recv(fd, rbuf, sizeof(rbuf), 5000);
	if (n <= 0)
		fail("no echo");
	nlh = (struct nlmsghdr *)rbuf;
	printf("  echo: type=0x%x seq=%u pid=%u len=%u payload=\"%s\"\n",
	       nlh->nlmsg_type, nlh->nlmsg_seq, nlh->nlmsg_pid,
	       nlh->nlmsg_len, (char *)NLMSG_DATA(nlh));
	if (nlh->nlmsg_type != NLTEST_MSG_ECHO ||
	    nlh->nlmsg_seq != m.nlh.nlmsg_seq || nlh->nlmsg_pid != portid ||
	    nlh->nlmsg_len != m.nlh.nlmsg_len ||
	    strcmp(NLMSG_DATA(nlh), text))
		fail("echo differs from the request");
	got = true;

	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (!got || ack.error)
		fail("no echo or bad ack");
	return ok();
}

static int cmd_fail(int argc, char **argv)
{
	int err = argc > 0 ? atoi(argv[0]) : EPERM;
	const char *text = argc > 1 ? argv[1] : NULL;
	uint32_t miss = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	int fd = nl_open(unit);
	struct msg m;
	struct ack ack;
	uint32_t errno_offs;
	uint64_t cookie = 0x1122334455667788ull;

	msg_init(&m, NLTEST_MSG_FAIL, NLM_F_ACK);
	put_u32(&m, NLTEST_A_COUNT, 7);	/* ignored, moves ERRNO's offset */
	errno_offs = m.nlh.nlmsg_len;
	put_u32(&m, NLTEST_A_ERRNO, err);
	if (text)
		put_str(&m, NLTEST_A_ERRMSG, text);
	if (miss)
		put_u32(&m, NLTEST_A_MISS_TYPE, miss);
	if (!err)
		put_attr(&m, NLTEST_A_COOKIE, &cookie, sizeof(cookie));
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);

	if (ack.error != -err)
		fail("expected error %d", -err);
	if (!ack.msg || strcmp(ack.msg, text ? text :
			       err ? "nltest: failure requested" :
				     "nltest: warning requested"))
		fail("unexpected ext-ack message");
	if (err && (!ack.has_offs || ack.offs != errno_offs))
		fail("expected offset %u", errno_offs);
	if (err && miss && (!ack.has_miss || ack.miss_type != miss))
		fail("expected missing type %u", miss);
	if (!err && (ack.cookie_len != 8 ||
		     memcmp(ack.cookie, &cookie, sizeof(cookie))))
		fail("expected the cookie back");
	return ok();
}

/* Error cases the policy / handlers produce. */
static int cmd_bad(int argc, char **argv)
{
	int fd = nl_open(unit);
	struct msg m;
	struct ack ack;
	uint32_t offs;

	(void)argc;
	(void)argv;

	/* group 65 is out of the policy's range */
	msg_init(&m, NLTEST_MSG_MCAST, NLM_F_ACK);
	offs = m.nlh.nlmsg_len;
	put_u32(&m, NLTEST_A_GROUP, NLTEST_GROUPS + 1);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -ERANGE || !ack.has_offs || ack.offs != offs)
		fail("group 65: expected ERANGE at offset %u", offs);

	/* missing required attribute */
	msg_init(&m, NLTEST_MSG_MCAST, NLM_F_ACK);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -EINVAL || !ack.has_miss ||
	    ack.miss_type != NLTEST_A_GROUP)
		fail("missing group: expected EINVAL + miss_type");

	/* unknown attribute type (strict parsing) */
	msg_init(&m, NLTEST_MSG_MCAST, NLM_F_ACK);
	put_u32(&m, NLTEST_A_GROUP, 1);
	offs = m.nlh.nlmsg_len;
	put_u32(&m, NLTEST_A_MAX + 1, 1);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -EINVAL || !ack.has_offs || ack.offs != offs)
		fail("unknown attr: expected EINVAL at offset %u", offs);

	/* kernel->user only type */
	msg_init(&m, NLTEST_MSG_TICK, NLM_F_ACK);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -EOPNOTSUPP)
		fail("TICK: expected EOPNOTSUPP");

	/* timer stop on an idle group */
	msg_init(&m, NLTEST_MSG_TIMER_STOP, NLM_F_ACK);
	put_u32(&m, NLTEST_A_GROUP, 3);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -ENOENT)
		fail("timer stop: expected ENOENT");
	return ok();
}

static void print_mcast(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[MAX_TB];

	parse_attrs(NLMSG_DATA(nlh), nlh->nlmsg_len - NLMSG_HDRLEN, tb);
	printf("  mcast: type=0x%x seq=%u pid=%u group=%u payload=\"%.*s\"\n",
	       nlh->nlmsg_type, nlh->nlmsg_seq, nlh->nlmsg_pid,
	       tb[NLTEST_A_GROUP] ? a_u32(tb[NLTEST_A_GROUP]) : 0,
	       tb[NLTEST_A_PAYLOAD] ? alen(tb[NLTEST_A_PAYLOAD]) : 0,
	       tb[NLTEST_A_PAYLOAD] ? (const char *)adata(tb[NLTEST_A_PAYLOAD]) :
				      "");
}

static int mcast_send(int fd, int group, const char *text, uint16_t flags)
{
	struct msg m;
	struct ack ack;

	msg_init(&m, NLTEST_MSG_MCAST, NLM_F_ACK | flags);
	put_u32(&m, NLTEST_A_GROUP, group);
	put_attr(&m, NLTEST_A_PAYLOAD, text, strlen(text));
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	if (ack.error)
		print_ack(&ack);
	return ack.error;
}

/* mcast GROUP [TEXT]: 3 listeners (on GROUP, GROUP and GROUP+1), one sender */
static int cmd_mcast(int argc, char **argv)
{
	int group = argc > 0 ? atoi(argv[0]) : 42;
	const char *text = argc > 1 ? argv[1] : "fan-out";
	int l1 = nl_open(unit), l2 = nl_open(unit), other = nl_open(unit);
	int tx = nl_open(unit);
	int fds[3] = { l1, l2, other };
	int i, n;

	join_group(l1, group);
	join_group(l2, group);
	join_group(other, group == NLTEST_GROUPS ? 1 : group + 1);

	if (mcast_send(tx, group, text, 0))
		fail("mcast send failed");
	for (i = 0; i < 3; i++) {
		n = nl_recv(fds[i], rbuf, sizeof(rbuf), i < 2 ? 2000 : 300);
		if (i < 2) {
			const struct nlattr *tb[MAX_TB];
			struct nlmsghdr *nlh = (struct nlmsghdr *)rbuf;

			if (n <= 0)
				fail("listener %d got nothing", i);
			print_mcast(nlh);
			parse_attrs(NLMSG_DATA(nlh),
				    nlh->nlmsg_len - NLMSG_HDRLEN, tb);
			if (nlh->nlmsg_type != NLTEST_MSG_MCAST ||
			    !tb[NLTEST_A_GROUP] ||
			    a_u32(tb[NLTEST_A_GROUP]) != (uint32_t)group ||
			    !tb[NLTEST_A_PAYLOAD] ||
			    alen(tb[NLTEST_A_PAYLOAD]) != (int)strlen(text))
				fail("bad notification");
		} else if (n != 0) {
			fail("listener on another group got a message");
		}
	}

	/* NLM_F_ECHO: the (unsubscribed) sender gets a copy too */
	{
		struct msg m;
		struct nlmsghdr *nlh;
		bool copy = false;

		msg_init(&m, NLTEST_MSG_MCAST, NLM_F_ECHO);
		put_u32(&m, NLTEST_A_GROUP, group);
		nl_send_or_die(tx, &m);
		n = nl_recv(tx, rbuf, sizeof(rbuf), 2000);
		for (nlh = (struct nlmsghdr *)rbuf; n > 0 && NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n))
			if (nlh->nlmsg_type == NLTEST_MSG_MCAST)
				copy = true;
		if (!copy)
			fail("NLM_F_ECHO: no copy for the sender");
		printf("  NLM_F_ECHO copy received by the sender\n");
	}
	return ok();
}

/* listen GROUP COUNT TIMEOUT_MS: print what arrives on a group */
static int cmd_listen(int argc, char **argv)
{
	int group = argc > 0 ? atoi(argv[0]) : 1;
	int count = argc > 1 ? atoi(argv[1]) : 1;
	int timeout = argc > 2 ? atoi(argv[2]) : 2000;
	int fd = nl_open(unit);
	int got = 0;

	join_group(fd, group);
	printf("  listening on group %d\n", group);
	fflush(stdout);
	while (got < count) {
		int n = nl_recv(fd, rbuf, sizeof(rbuf), timeout);
		struct nlmsghdr *nlh;

		if (n <= 0)
			break;
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			print_mcast(nlh);
			got++;
		}
	}
	printf("  received %d message(s)\n", got);
	fflush(stdout);
	if (got < count)
		fail("expected %d message(s)", count);
	return ok();
}

/* send GROUP TEXT: just send (used across namespaces) */
static int cmd_send(int argc, char **argv)
{
	int group = argc > 0 ? atoi(argv[0]) : 1;
	const char *text = argc > 1 ? argv[1] : "x";
	int fd = nl_open(unit);

	if (mcast_send(fd, group, text, 0))
		fail("send failed");
	return ok();
}

/* ticks GROUP INTERVAL_MS N: start, receive N ticks, stop, verify silence */
static int cmd_ticks(int argc, char **argv)
{
	int group = argc > 0 ? atoi(argv[0]) : 40;
	int interval = argc > 1 ? atoi(argv[1]) : 50;
	int count = argc > 2 ? atoi(argv[2]) : 5;
	int ctl = nl_open(unit), fd = nl_open(unit);
	uint64_t expect = 1, t0 = 0;
	struct msg m;
	struct ack ack;
	int got = 0, n;

	join_group(fd, group);
	msg_init(&m, NLTEST_MSG_TIMER_START, NLM_F_ACK);
	put_u32(&m, NLTEST_A_GROUP, group);
	put_u32(&m, NLTEST_A_INTERVAL_MS, interval);
	nl_send_or_die(ctl, &m);
	wait_ack(ctl, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	if (ack.error)
		fail("timer start: %s", strerror(-ack.error));

	while (got < count) {
		const struct nlattr *tb[MAX_TB];
		struct nlmsghdr *nlh;

		n = nl_recv(fd, rbuf, sizeof(rbuf), 10 * interval + 2000);
		if (n <= 0)
			fail("no tick (got %d)", got);
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			uint64_t c, ts;

			parse_attrs(NLMSG_DATA(nlh),
				    nlh->nlmsg_len - NLMSG_HDRLEN, tb);
			if (nlh->nlmsg_type != NLTEST_MSG_TICK ||
			    !tb[NLTEST_A_COUNTER] || !tb[NLTEST_A_GROUP] ||
			    !tb[NLTEST_A_TIMESTAMP_NS])
				fail("bad tick");
			c = a_u64(tb[NLTEST_A_COUNTER]);
			ts = a_u64(tb[NLTEST_A_TIMESTAMP_NS]);
			printf("  tick: seq=%u group=%u counter=%" PRIu64
			       " dt=%.1fms\n", nlh->nlmsg_seq,
			       a_u32(tb[NLTEST_A_GROUP]), c,
			       t0 ? (ts - t0) / 1e6 : 0.0);
			t0 = ts;
			if (c != expect++)
				fail("counter %" PRIu64 " out of order", c);
			got++;
		}
	}

	msg_init(&m, NLTEST_MSG_TIMER_STOP, NLM_F_ACK);
	put_u32(&m, NLTEST_A_GROUP, group);
	nl_send_or_die(ctl, &m);
	wait_ack(ctl, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	if (ack.error)
		fail("timer stop: %s", strerror(-ack.error));

	/* drain what was in flight, then expect silence */
	while (nl_recv(fd, rbuf, sizeof(rbuf), 0) > 0)
		;
	n = nl_recv(fd, rbuf, sizeof(rbuf), 3 * interval + 200);
	if (n > 0)
		fail("tick after stop");
	printf("  no tick after stop\n");
	return ok();
}

/* timer-start GROUP INTERVAL_MS [COUNT] / timer-stop [GROUP] */
static int cmd_timer(int argc, char **argv, bool start)
{
	int fd = nl_open(unit);
	struct msg m;
	struct ack ack;

	msg_init(&m, start ? NLTEST_MSG_TIMER_START : NLTEST_MSG_TIMER_STOP,
		 NLM_F_ACK);
	if (argc > 0)
		put_u32(&m, NLTEST_A_GROUP, atoi(argv[0]));
	if (start && argc > 1)
		put_u32(&m, NLTEST_A_INTERVAL_MS, atoi(argv[1]));
	if (start && argc > 2)
		put_u32(&m, NLTEST_A_COUNT, atoi(argv[2]));
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error)
		fail("%s", strerror(-ack.error));
	return ok();
}

/*
 * flood COUNT SIZE lossy|lossless [BATCH] [DELAY_MS] [RCVBUF]: request a
 * flood, sleep DELAY_MS before reading (lets a lossy flood overrun), receive
 * and check everything.
 */
static int cmd_flood(int argc, char **argv)
{
	uint32_t count = argc > 0 ? strtoul(argv[0], NULL, 0) : 100000;
	uint32_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	bool lossless = argc > 2 && !strcmp(argv[2], "lossless");
	uint32_t batch = argc > 3 ? strtoul(argv[3], NULL, 0) : 1;
	int delay = argc > 4 ? atoi(argv[4]) : 0;
	int rcvbuf = argc > 5 ? atoi(argv[5]) : 0;
	int fd = nl_open(unit);
	uint64_t received = 0, gaps = 0, lost = 0, next = 0, bytes = 0;
	uint64_t dgrams = 0, t0, t1, enobufs = 0;
	const struct nlattr *tb[MAX_TB];
	uint64_t sent = 0, dropped = 0, kns = 0;
	int32_t status = 0;
	bool done = false, acked = false;
	struct msg m;
	uint32_t id = 0;

	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf)))
		fail("SO_RCVBUF: %s", strerror(errno));

	msg_init(&m, NLTEST_MSG_FLOOD, NLM_F_ACK);
	put_u32(&m, NLTEST_A_COUNT, count);
	put_u32(&m, NLTEST_A_SIZE, size);
	put_u32(&m, NLTEST_A_MODE, lossless ? NLTEST_FLOOD_LOSSLESS :
					      NLTEST_FLOOD_LOSSY);
	put_u32(&m, NLTEST_A_BATCH, batch);
	t0 = now_ns();
	nl_send_or_die(fd, &m);
	if (delay)
		usleep(delay * 1000);

	while (!done) {
		int n = nl_recv(fd, rbuf, sizeof(rbuf), 10000);
		struct nlmsghdr *nlh;

		if (n == -ENOBUFS) {
			enobufs++;
			continue;
		}
		if (n == 0)
			fail("timeout (received %" PRIu64 ")", received);
		if (n < 0)
			fail("recv: %s", strerror(-n));
		dgrams++;
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLTEST_MSG_FLOOD_DATA) {
				const struct nltest_flood_data *d =
					NLMSG_DATA(nlh);

				if (d->counter != next) {
					gaps++;
					lost += d->counter - next;
				}
				next = d->counter + 1;
				received++;
				bytes += nlh->nlmsg_len;
			} else if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct ack ack;

				parse_ack(nlh, &ack);
				if (ack.error)
					fail("flood request: %s",
					     strerror(-ack.error));
				if (ack.cookie_len == 8)
					memcpy(&id, ack.cookie, 4);
				acked = true;
			} else if (nlh->nlmsg_type == NLTEST_MSG_FLOOD_DONE) {
				parse_attrs(NLMSG_DATA(nlh),
					    nlh->nlmsg_len - NLMSG_HDRLEN, tb);
				sent = a_u64(tb[NLTEST_A_SENT]);
				dropped = a_u64(tb[NLTEST_A_DROPPED]);
				kns = a_u64(tb[NLTEST_A_ELAPSED_NS]);
				status = (int32_t)a_u32(tb[NLTEST_A_STATUS]);
				if (id && a_u32(tb[NLTEST_A_FLOOD_ID]) != id)
					fail("flood id differs");
				done = true;
			}
		}
	}
	t1 = now_ns();
	lost += count - next;
	printf("  flood %s id=%u: count=%u size=%u batch=%u received=%" PRIu64
	       " datagrams=%" PRIu64 " gaps=%" PRIu64 " lost=%" PRIu64
	       " enobufs=%" PRIu64 "\n", lossless ? "lossless" : "lossy", id,
	       count, size, batch, received, dgrams, gaps, lost, enobufs);
	printf("  done: status=%d sent=%" PRIu64 " dropped=%" PRIu64
	       " kernel=%.1fms user=%.1fms (%.0f msg/s)\n", status, sent,
	       dropped, kns / 1e6, (t1 - t0) / 1e6,
	       received / ((t1 - t0) / 1e9));
	if (!acked)
		fail("no ack before the done message");
	if (status || sent + dropped != count || received != sent ||
	    lost != dropped)
		fail("counts do not add up");
	if (lossless && (dropped || enobufs))
		fail("lossless flood lost messages");
	return ok();
}

/*
 * flood-close COUNT: request a lossless flood, read a little, close the
 * socket, then check the module still works (the flood thread must end).
 */
static int cmd_flood_close(int argc, char **argv)
{
	uint32_t count = argc > 0 ? strtoul(argv[0], NULL, 0) : 1000000;
	int fd = nl_open(unit);
	struct msg m;
	int i;

	msg_init(&m, NLTEST_MSG_FLOOD, 0);
	put_u32(&m, NLTEST_A_COUNT, count);
	put_u32(&m, NLTEST_A_MODE, NLTEST_FLOOD_LOSSLESS);
	nl_send_or_die(fd, &m);
	for (i = 0; i < 10; i++)
		nl_recv(fd, rbuf, sizeof(rbuf), 1000);
	close(fd);
	printf("  closed the receiver of a running lossless flood\n");
	return ok();
}

/* flood-hang COUNT: request a lossless flood and never read (for rmmod) */
static int cmd_flood_hang(int argc, char **argv)
{
	uint32_t count = argc > 0 ? strtoul(argv[0], NULL, 0) : 1000000;
	int secs = argc > 1 ? atoi(argv[1]) : 3;
	int fd = nl_open(unit);
	struct msg m;

	msg_init(&m, NLTEST_MSG_FLOOD, 0);
	put_u32(&m, NLTEST_A_COUNT, count);
	put_u32(&m, NLTEST_A_MODE, NLTEST_FLOOD_LOSSLESS);
	nl_send_or_die(fd, &m);
	printf("  flood requested, not reading for %ds\n", secs);
	fflush(stdout);
	sleep(secs);
	return ok();
}

static int count_entries(const struct nlmsghdr *nlh, int n, uint32_t *next,
			 int *intr_at, int *done_err, bool *done,
			 int *done_intr, const char **done_msg)
{
	int entries = 0;

	for (; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
		if (nlh->nlmsg_type == NLMSG_DONE) {
			*done = true;
			*done_err = *(const int *)NLMSG_DATA(nlh);
			*done_intr = !!(nlh->nlmsg_flags & NLM_F_DUMP_INTR);
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
				const struct nlattr *tb[MAX_TB];

				parse_attrs((const char *)NLMSG_DATA(nlh) + 4,
					    nlh->nlmsg_len - NLMSG_HDRLEN - 4,
					    tb);
				if (tb[NLMSGERR_ATTR_MSG])
					*done_msg = strdup(
						adata(tb[NLMSGERR_ATTR_MSG]));
			}
			break;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct ack ack;

			parse_ack(nlh, &ack);
			print_ack(&ack);
			fail("dump request failed");
		}
		if (nlh->nlmsg_type == NLTEST_MSG_ENTRY) {
			const struct nlattr *tb[MAX_TB];

			parse_attrs(NLMSG_DATA(nlh),
				    nlh->nlmsg_len - NLMSG_HDRLEN, tb);
			if (!tb[NLTEST_A_INDEX] ||
			    a_u32(tb[NLTEST_A_INDEX]) != *next ||
			    a_u64(tb[NLTEST_A_VALUE]) !=
				    (uint64_t)*next * *next)
				fail("entry %u out of order", *next);
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				fail("entry without NLM_F_MULTI");
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
				printf("  NLM_F_DUMP_INTR on entry %u\n",
				       *next);
				if (*intr_at < 0)
					*intr_at = *next;
			}
			(*next)++;
			entries++;
		}
	}
	return entries;
}

/* dump COUNT [INTR_AT] [PAD] [ERRNO] */
static int cmd_dump(int argc, char **argv)
{
	uint32_t count = argc > 0 ? strtoul(argv[0], NULL, 0) : 10000;
	uint32_t intr = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	uint32_t pad = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	uint32_t err = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	int fd = nl_open(unit);
	uint32_t next = 0;
	int intr_at = -1, done_err = 0, done_intr = 0, dgrams = 0;
	const char *done_msg = NULL;
	bool done = false;
	struct msg m;

	msg_init(&m, NLTEST_MSG_ENTRY, NLM_F_DUMP);
	put_u32(&m, NLTEST_A_COUNT, count);
	if (intr)
		put_u32(&m, NLTEST_A_INTR_AT, intr);
	if (pad)
		put_u32(&m, NLTEST_A_SIZE, pad);
	if (err)
		put_u32(&m, NLTEST_A_ERRNO, err);
	nl_send_or_die(fd, &m);

	while (!done) {
		int n = nl_recv(fd, rbuf, sizeof(rbuf), 5000);

		if (n <= 0)
			fail("recv: %s", n ? strerror(-n) : "timeout");
		dgrams++;
		count_entries((struct nlmsghdr *)rbuf, n, &next, &intr_at,
			      &done_err, &done, &done_intr, &done_msg);
	}
	printf("  dump: entries=%u datagrams=%d done_error=%d done_intr=%d%s%s%s\n",
	       next, dgrams, done_err, done_intr, done_msg ? " msg=\"" : "",
	       done_msg ? done_msg : "", done_msg ? "\"" : "");
	if (next != count)
		fail("expected %u entries", count);
	if (done_err != -(int)err)
		fail("expected NLMSG_DONE error %d", -(int)err);
	if (intr && intr < count && intr_at != (int)intr)
		fail("expected NLM_F_DUMP_INTR on entry %u", intr);
	if (intr && intr == count && !done_intr)
		fail("expected NLM_F_DUMP_INTR on NLMSG_DONE");
	if ((!intr || intr > count) && (intr_at >= 0 || done_intr))
		fail("unexpected NLM_F_DUMP_INTR");
	return ok();
}

/* dump-hold COUNT SECONDS: read one datagram of a dump, then wait */
static int cmd_dump_hold(int argc, char **argv)
{
	uint32_t count = argc > 0 ? strtoul(argv[0], NULL, 0) : 10000;
	int secs = argc > 1 ? atoi(argv[1]) : 3;
	int fd = nl_open(unit);
	struct msg m;
	int n;

	msg_init(&m, NLTEST_MSG_ENTRY, NLM_F_DUMP);
	put_u32(&m, NLTEST_A_COUNT, count);
	nl_send_or_die(fd, &m);
	n = nl_recv(fd, rbuf, sizeof(rbuf), 2000);
	printf("  first dump datagram: %d bytes; holding the dump for %ds\n",
	       n, secs);
	fflush(stdout);
	sleep(secs);
	n = nl_recv(fd, rbuf, sizeof(rbuf), 500);
	printf("  next recv: %s\n",
	       n < 0 ? strerror(-n) : n ? "more dump data" : "nothing");
	return ok();
}

/* get INDEX */
static int cmd_get(int argc, char **argv)
{
	uint32_t index = argc > 0 ? strtoul(argv[0], NULL, 0) : 7;
	int fd = nl_open(unit);
	const struct nlattr *tb[MAX_TB];
	struct nlmsghdr *nlh;
	struct msg m;
	int n;

	msg_init(&m, NLTEST_MSG_ENTRY, 0);
	put_u32(&m, NLTEST_A_INDEX, index);
	nl_send_or_die(fd, &m);
	n = nl_recv(fd, rbuf, sizeof(rbuf), 2000);
	if (n <= 0)
		fail("no reply");
	nlh = (struct nlmsghdr *)rbuf;
	parse_attrs(NLMSG_DATA(nlh), nlh->nlmsg_len - NLMSG_HDRLEN, tb);
	if (nlh->nlmsg_type != NLTEST_MSG_ENTRY || !tb[NLTEST_A_NAME])
		fail("unexpected reply type %u", nlh->nlmsg_type);
	printf("  entry: index=%u value=%" PRIu64 " name=%s\n",
	       a_u32(tb[NLTEST_A_INDEX]), a_u64(tb[NLTEST_A_VALUE]),
	       (const char *)adata(tb[NLTEST_A_NAME]));
	return ok();
}

/* ---------------- commands: generic netlink ---------------- */

struct family {
	uint16_t id;
	uint32_t version, maxattr, events_grp;
	int nops;
};

static struct family resolve(int fd, const char *name, bool verbose)
{
	const struct nlattr *tb[MAX_TB], *ntb[MAX_TB], *gtb[MAX_TB];
	struct genlmsghdr g = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 };
	struct family fam = { 0 };
	const struct nlattr *a;
	struct nlmsghdr *nlh;
	struct msg m;
	int n, len;

	msg_init(&m, GENL_ID_CTRL, 0);
	msg_put(&m, &g, sizeof(g));
	put_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	nl_send_or_die(fd, &m);
	n = nl_recv(fd, rbuf, sizeof(rbuf), 2000);
	if (n <= 0)
		fail("CTRL_CMD_GETFAMILY: no reply");
	nlh = (struct nlmsghdr *)rbuf;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		struct ack ack;

		parse_ack(nlh, &ack);
		print_ack(&ack);
		fail("family \"%s\" not found", name);
	}
	parse_attrs((char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, tb);
	fam.id = *(uint16_t *)adata(tb[CTRL_ATTR_FAMILY_ID]);
	fam.version = a_u32(tb[CTRL_ATTR_VERSION]);
	fam.maxattr = a_u32(tb[CTRL_ATTR_MAXATTR]);
	if (verbose)
		printf("  family %s: id=%u version=%u maxattr=%u\n",
		       (char *)adata(tb[CTRL_ATTR_FAMILY_NAME]), fam.id,
		       fam.version, fam.maxattr);
	if (tb[CTRL_ATTR_OPS]) {
		a = adata(tb[CTRL_ATTR_OPS]);
		len = alen(tb[CTRL_ATTR_OPS]);
		for (; len >= NLA_HDRLEN; len -= NLA_ALIGN(a->nla_len),
		     a = (const void *)((char *)a + NLA_ALIGN(a->nla_len))) {
			parse_attrs(adata(a), alen(a), ntb);
			if (verbose)
				printf("    op %u flags=0x%x\n",
				       a_u32(ntb[CTRL_ATTR_OP_ID]),
				       a_u32(ntb[CTRL_ATTR_OP_FLAGS]));
			fam.nops++;
		}
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		a = adata(tb[CTRL_ATTR_MCAST_GROUPS]);
		len = alen(tb[CTRL_ATTR_MCAST_GROUPS]);
		for (; len >= NLA_HDRLEN; len -= NLA_ALIGN(a->nla_len),
		     a = (const void *)((char *)a + NLA_ALIGN(a->nla_len))) {
			parse_attrs(adata(a), alen(a), gtb);
			if (verbose)
				printf("    mcast group \"%s\" id=%u\n",
				       (char *)adata(gtb[CTRL_ATTR_MCAST_GRP_NAME]),
				       a_u32(gtb[CTRL_ATTR_MCAST_GRP_ID]));
			if (!strcmp(adata(gtb[CTRL_ATTR_MCAST_GRP_NAME]),
				    NLTEST_MCGRP_EVENTS))
				fam.events_grp =
					a_u32(gtb[CTRL_ATTR_MCAST_GRP_ID]);
		}
	}
	return fam;
}

static int cmd_genl_resolve(int argc, char **argv)
{
	int fd = nl_open(NETLINK_GENERIC);
	struct family f;

	(void)argc;
	(void)argv;
	f = resolve(fd, NLTEST_FAMILY_NAME, true);
	if (f.version != NLTEST_FAMILY_VERSION || f.nops != 3 ||
	    !f.events_grp || f.maxattr != NLTEST_GENL_A_MAX)
		fail("unexpected family description");
	return ok();
}

static void genl_init(struct msg *m, const struct family *f, uint8_t cmd,
		      uint16_t flags)
{
	struct genlmsghdr g = { .cmd = cmd, .version = NLTEST_FAMILY_VERSION };

	msg_init(m, f->id, flags);
	msg_put(m, &g, sizeof(g));
}

static void print_genl(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *tb[MAX_TB];

	parse_attrs((const char *)g + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, tb);
	printf("  genl: cmd=%u seq=%u msg=\"%s\" value=%u payload_len=%d\n",
	       g->cmd, nlh->nlmsg_seq,
	       tb[NLTEST_GENL_A_MSG] ? (char *)adata(tb[NLTEST_GENL_A_MSG]) : "",
	       tb[NLTEST_GENL_A_VALUE] ? a_u32(tb[NLTEST_GENL_A_VALUE]) : 0,
	       tb[NLTEST_GENL_A_PAYLOAD] ? alen(tb[NLTEST_GENL_A_PAYLOAD]) : -1);
}

/* genl-echo MSG VALUE: expect the reply; bad values must be rejected */
static int cmd_genl_echo(int argc, char **argv)
{
	const char *text = argc > 0 ? argv[0] : "hello genl";
	uint32_t value = argc > 1 ? strtoul(argv[1], NULL, 0) : 42;
	int fd = nl_open(NETLINK_GENERIC);
	struct family f = resolve(fd, NLTEST_FAMILY_NAME, false);
	struct nlmsghdr *nlh;
	struct msg m;
	struct ack ack;
	uint32_t offs;
	int n;

	genl_init(&m, &f, NLTEST_GENL_CMD_ECHO, NLM_F_ACK);
	put_str(&m, NLTEST_GENL_A_MSG, text);
	put_u32(&m, NLTEST_GENL_A_VALUE, value);
	put_attr(&m, NLTEST_GENL_A_PAYLOAD, "\x01\x02\x03", 3);
	nl_send_or_die(fd, &m);
	n = nl_recv(fd, rbuf, sizeof(rbuf), 2000);
	if (n <= 0)
		fail("no reply");
	nlh = (struct nlmsghdr *)rbuf;
	if (nlh->nlmsg_type != f.id)
		fail("expected an echo reply, got type %u", nlh->nlmsg_type);
	print_genl(nlh);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error)
		fail("echo: %s", strerror(-ack.error));

	/* value 101 is out of range: policy rejects with an ext-ack */
	genl_init(&m, &f, NLTEST_GENL_CMD_ECHO, NLM_F_ACK);
	put_str(&m, NLTEST_GENL_A_MSG, text);
	offs = m.nlh.nlmsg_len;
	put_u32(&m, NLTEST_GENL_A_VALUE, NLTEST_GENL_VALUE_MAX + 1);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -ERANGE || !ack.msg || !ack.has_offs ||
	    ack.offs != offs)
		fail("value 101: expected ERANGE with a message at offset %u",
		     offs);

	/* a 32-character string is too long (NLA_NUL_STRING: -EINVAL) */
	genl_init(&m, &f, NLTEST_GENL_CMD_ECHO, NLM_F_ACK);
	offs = m.nlh.nlmsg_len;
	put_str(&m, NLTEST_GENL_A_MSG, "0123456789abcdef0123456789abcdef");
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -EINVAL || !ack.msg || !ack.has_offs ||
	    ack.offs != offs)
		fail("long msg: expected EINVAL at offset %u", offs);

	/* COUNT is not part of echo's policy: rejected */
	genl_init(&m, &f, NLTEST_GENL_CMD_ECHO, NLM_F_ACK);
	offs = m.nlh.nlmsg_len;
	put_u32(&m, NLTEST_GENL_A_COUNT, 1);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -EINVAL || !ack.has_offs || ack.offs != offs)
		fail("count in echo: expected EINVAL at offset %u", offs);

	/* unknown command */
	genl_init(&m, &f, NLTEST_GENL_CMD_EVENT, NLM_F_ACK);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	print_ack(&ack);
	if (ack.error != -EOPNOTSUPP)
		fail("EVENT as a request: expected EOPNOTSUPP");
	return ok();
}

/* genl-notify: a listener on "events" gets the event */
static int cmd_genl_notify(int argc, char **argv)
{
	const char *text = argc > 0 ? argv[0] : "event!";
	int fd = nl_open(NETLINK_GENERIC), l = nl_open(NETLINK_GENERIC);
	struct family f = resolve(fd, NLTEST_FAMILY_NAME, false);
	struct nlmsghdr *nlh;
	struct msg m;
	struct ack ack;
	int n;

	join_group(l, f.events_grp);
	genl_init(&m, &f, NLTEST_GENL_CMD_NOTIFY, NLM_F_ACK);
	put_str(&m, NLTEST_GENL_A_MSG, text);
	put_u32(&m, NLTEST_GENL_A_VALUE, 7);
	nl_send_or_die(fd, &m);
	wait_ack(fd, m.nlh.nlmsg_seq, &ack, NULL, NULL);
	if (ack.error)
		fail("notify: %s", strerror(-ack.error));
	n = nl_recv(l, rbuf, sizeof(rbuf), 2000);
	if (n <= 0)
		fail("listener got nothing");
	nlh = (struct nlmsghdr *)rbuf;
	print_genl(nlh);
	if (nlh->nlmsg_type != f.id ||
	    ((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd != NLTEST_GENL_CMD_EVENT)
		fail("not an EVENT");
	return ok();
}

/* genl-listen COUNT TIMEOUT_MS: print events */
static int cmd_genl_listen(int argc, char **argv)
{
	int count = argc > 0 ? atoi(argv[0]) : 1;
	int timeout = argc > 1 ? atoi(argv[1]) : 2000;
	int fd = nl_open(NETLINK_GENERIC);
	struct family f = resolve(fd, NLTEST_FAMILY_NAME, false);
	int got = 0;

	join_group(fd, f.events_grp);
	while (got < count) {
		int n = nl_recv(fd, rbuf, sizeof(rbuf), timeout);

		if (n <= 0)
			break;
		print_genl((struct nlmsghdr *)rbuf);
		got++;
	}
	printf("  received %d event(s)\n", got);
	if (got < count)
		fail("expected %d event(s)", count);
	return ok();
}

/* genl-list COUNT */
static int cmd_genl_list(int argc, char **argv)
{
	uint32_t count = argc > 0 ? strtoul(argv[0], NULL, 0) : 1000;
	int fd = nl_open(NETLINK_GENERIC);
	struct family f = resolve(fd, NLTEST_FAMILY_NAME, false);
	uint32_t next = 0;
	bool done = false;
	int dgrams = 0;
	struct msg m;

	genl_init(&m, &f, NLTEST_GENL_CMD_LIST, NLM_F_DUMP);
	put_u32(&m, NLTEST_GENL_A_COUNT, count);
	nl_send_or_die(fd, &m);
	while (!done) {
		int n = nl_recv(fd, rbuf, sizeof(rbuf), 5000);
		struct nlmsghdr *nlh;

		if (n <= 0)
			fail("recv: %s", n ? strerror(-n) : "timeout");
		dgrams++;
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			const struct nlattr *tb[MAX_TB];

			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct ack ack;

				parse_ack(nlh, &ack);
				print_ack(&ack);
				fail("list failed");
			}
			parse_attrs((char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
				    nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
				    tb);
			if (!tb[NLTEST_GENL_A_INDEX] ||
			    a_u32(tb[NLTEST_GENL_A_INDEX]) != next)
				fail("entry %u out of order", next);
			next++;
		}
	}
	printf("  genl list: entries=%u datagrams=%d\n", next, dgrams);
	if (next != count)
		fail("expected %u entries", count);
	return ok();
}

/*
 * hold SECONDS: open a unit socket (subscribed to group 64, with a timer
 * running) and a genl socket, wait (meanwhile: rmmod), then use both and
 * report what happens. Succeeds if nothing hangs.
 */
static int cmd_hold(int argc, char **argv)
{
	int secs = argc > 0 ? atoi(argv[0]) : 3;
	int fd = nl_open(unit), g = nl_open(NETLINK_GENERIC);
	struct family f = resolve(g, NLTEST_FAMILY_NAME, false);
	struct msg m;
	int n;

	join_group(fd, NLTEST_GROUPS);
	join_group(g, f.events_grp);
	msg_init(&m, NLTEST_MSG_TIMER_START, 0);
	put_u32(&m, NLTEST_A_GROUP, NLTEST_GROUPS);
	put_u32(&m, NLTEST_A_INTERVAL_MS, 10);
	nl_send_or_die(fd, &m);
	printf("  holding unit and genl sockets for %ds\n", secs);
	fflush(stdout);
	sleep(secs);

	/* drain */
	while ((n = nl_recv(fd, rbuf, sizeof(rbuf), 0)) > 0)
		;
	msg_init(&m, NLTEST_MSG_ECHO, NLM_F_ACK);
	msg_put(&m, "x", 2);
	n = nl_send(fd, &m);
	printf("  unit send after wait: %s\n", n < 0 ? strerror(errno) : "ok");
	n = nl_recv(fd, rbuf, sizeof(rbuf), 500);
	printf("  unit recv after wait: %s\n",
	       n < 0 ? strerror(-n) : n ? "got a reply" : "nothing");

	genl_init(&m, &f, NLTEST_GENL_CMD_ECHO, NLM_F_ACK);
	put_u32(&m, NLTEST_GENL_A_VALUE, 1);
	n = nl_send(g, &m);
	printf("  genl send after wait: %s\n", n < 0 ? strerror(errno) : "ok");
	n = nl_recv(g, rbuf, sizeof(rbuf), 500);
	if (n > 0 && ((struct nlmsghdr *)rbuf)->nlmsg_type == NLMSG_ERROR) {
		struct ack ack;

		parse_ack((struct nlmsghdr *)rbuf, &ack);
		print_ack(&ack);
	} else {
		printf("  genl recv after wait: %s\n",
		       n < 0 ? strerror(-n) : n ? "got a reply" : "nothing");
	}
	n = socket(AF_NETLINK, SOCK_RAW, unit);
	printf("  new unit socket: %s\n", n < 0 ? strerror(errno) : "ok");
	return ok();
}

/* ---------------- main ---------------- */

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "echo", cmd_echo, "[TEXT]  echo + ack" },
	{ "fail", cmd_fail, "[ERRNO [MSG [MISS_TYPE]]]  requested error with ext-ack (ERRNO 0: warning + cookie)" },
	{ "bad", cmd_bad, "  policy/handler rejections (range, missing, unknown attr, type)" },
	{ "mcast", cmd_mcast, "[GROUP [TEXT]]  fan-out to two listeners, NLM_F_ECHO" },
	{ "listen", cmd_listen, "GROUP [COUNT [TIMEOUT_MS]]  print messages of a group" },
	{ "send", cmd_send, "GROUP [TEXT]  send to a group" },
	{ "ticks", cmd_ticks, "[GROUP [INTERVAL_MS [N]]]  kernel-initiated messages, start/stop" },
	{ "timer-start", NULL, "GROUP INTERVAL_MS [COUNT]" },
	{ "timer-stop", NULL, "[GROUP]" },
	{ "flood", cmd_flood, "[COUNT [SIZE [lossy|lossless [BATCH [DELAY_MS [RCVBUF]]]]]]" },
	{ "flood-close", cmd_flood_close, "[COUNT]  close the receiver mid-flood" },
	{ "flood-hang", cmd_flood_hang, "[COUNT [SECONDS]]  lossless flood, never read" },
	{ "dump", cmd_dump, "[COUNT [INTR_AT [PAD [ERRNO]]]]" },
	{ "dump-hold", cmd_dump_hold, "[COUNT [SECONDS]]  leave a dump unfinished" },
	{ "get", cmd_get, "[INDEX]" },
	{ "genl-resolve", cmd_genl_resolve, "  CTRL_CMD_GETFAMILY nltest" },
	{ "genl-echo", cmd_genl_echo, "[MSG [VALUE]]  echo + policy rejections" },
	{ "genl-notify", cmd_genl_notify, "[MSG]  event on the events group" },
	{ "genl-list", cmd_genl_list, "[COUNT]  genl dump" },
	{ "genl-listen", cmd_genl_listen, "[COUNT [TIMEOUT_MS]]  print events" },
	{ "hold", cmd_hold, "[SECONDS]  keep sockets open (rmmod meanwhile)" },
};

int main(int argc, char **argv)
{
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "-u")) {
		unit = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s [-u UNIT] COMMAND [ARGS...]\n",
			argv[0]);
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			fprintf(stderr, "  %s %s\n", cmds[i].name,
				cmds[i].help);
		return 2;
	}
	cmd_name = argv[1];
	if (!strcmp(argv[1], "timer-start"))
		return cmd_timer(argc - 2, argv + 2, true);
	if (!strcmp(argv[1], "timer-stop"))
		return cmd_timer(argc - 2, argv + 2, false);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn && !strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "unknown command %s\n", argv[1]);
	return 2;
}
