// SPDX-License-Identifier: GPL-2.0
/*
 * flood_recv - reference C receiver for the nltest lossless flood.
 *
 * Opens the nltest netlink unit, asks the module for a lossless flood of
 * COUNT messages of SIZE payload bytes (BATCH messages per datagram), then
 * receives and walks every message with NLMSG_OK/NLMSG_NEXT, checking the
 * counter of each. Prints one JSON line with totals and rates.
 *
 * Build: cc -O2 -I kernel-module -o bench/flood_recv bench/flood_recv.c
 * Run (as root next to the loaded module, e.g. in test/vm/run):
 *   bench/flood_recv [-u UNIT] [-n COUNT] [-s SIZE] [-b BATCH]
 *                    [-r RCVBUF] [-B RECV_BUFFER]
 * Exit status: 0 when every message arrived in order, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "nltest_uapi.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void put_u32(char *buf, struct nlmsghdr *nlh, uint16_t type,
		    uint32_t v)
{
	struct nlattr *a = (struct nlattr *)(buf + nlh->nlmsg_len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + sizeof(v);
	memcpy((char *)a + NLA_HDRLEN, &v, sizeof(v));
	nlh->nlmsg_len += NLA_ALIGN(a->nla_len);
}

static uint64_t attr_u64(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = NLMSG_DATA(nlh);
	int len = nlh->nlmsg_len - NLMSG_HDRLEN;
	uint64_t v = 0;

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		if (a->nla_type == type) {
			memcpy(&v, (const char *)a + NLA_HDRLEN,
			       a->nla_len - NLA_HDRLEN > 8 ?
				       8 : a->nla_len - NLA_HDRLEN);
			return v;
		}
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    NLA_ALIGN(a->nla_len));
	}
	return v;
}

int main(int argc, char **argv)
{
	uint32_t count = 1000000, size = 64, batch = 1;
	int unit = NLTEST_UNIT_DEFAULT, rcvbuf = 0, bufsize = 1 << 16;
	uint64_t received = 0, bytes = 0, datagrams = 0, next = 0;
	uint64_t out_of_order = 0, enobufs = 0, t0, t1;
	uint64_t k_sent = 0, k_dropped = 0, k_ns = 0;
	int64_t k_status = 0;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char req[256] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = (struct nlmsghdr *)req;
	int fd, opt, done = 0;
	double secs;
	char *buf;

	while ((opt = getopt(argc, argv, "u:n:s:b:r:B:")) != -1) {
		switch (opt) {
		case 'u':
			unit = atoi(optarg);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 's':
			size = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rcvbuf = atoi(optarg);
			break;
		case 'B':
			bufsize = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-u UNIT] [-n COUNT] [-s SIZE] [-b BATCH] [-r RCVBUF] [-B RECV_BUFFER]\n",
				argv[0]);
			return 2;
		}
	}

	buf = aligned_alloc(8, bufsize);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, unit);
	if (!buf || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("socket/bind");
		return 1;
	}
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf))) {
		perror("SO_RCVBUF");
		return 1;
	}

	memset(req, 0, sizeof(req));
	nlh->nlmsg_len = NLMSG_HDRLEN;
	nlh->nlmsg_type = NLTEST_MSG_FLOOD;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	put_u32(req, nlh, NLTEST_A_COUNT, count);
	put_u32(req, nlh, NLTEST_A_SIZE, size);
	put_u32(req, nlh, NLTEST_A_MODE, NLTEST_FLOOD_LOSSLESS);
	put_u32(req, nlh, NLTEST_A_BATCH, batch);

	t0 = now_ns();
	if (send(fd, req, nlh->nlmsg_len, 0) < 0) {
		perror("send");
		return 1;
	}

	while (!done) {
		int n = recv(fd, buf, bufsize, 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == ENOBUFS) {
				enobufs++;
				continue;
			}
			perror("recv");
			return 1;
		}
		datagrams++;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLTEST_MSG_FLOOD_DATA) {
				const struct nltest_flood_data *d =
					NLMSG_DATA(h);

				if (d->counter != next)
					out_of_order++;
				next = d->counter + 1;
				received++;
				bytes += h->nlmsg_len;
			} else if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error) {
					fprintf(stderr, "flood request: %s\n",
						strerror(-e->error));
					return 1;
				}
			} else if (h->nlmsg_type == NLTEST_MSG_FLOOD_DONE) {
				k_sent = attr_u64(h, NLTEST_A_SENT);
				k_dropped = attr_u64(h, NLTEST_A_DROPPED);
				k_ns = attr_u64(h, NLTEST_A_ELAPSED_NS);
				k_status = (int32_t)attr_u64(h, NLTEST_A_STATUS);
				done = 1;
			}
		}
	}
	t1 = now_ns();
	secs = (t1 - t0) / 1e9;

	printf("{\"bench\":\"flood_recv\",\"mode\":\"lossless\",\"count\":%u,"
	       "\"size\":%u,\"batch\":%u,\"received\":%" PRIu64
	       ",\"datagrams\":%" PRIu64 ",\"bytes\":%" PRIu64
	       ",\"out_of_order\":%" PRIu64 ",\"enobufs\":%" PRIu64
	       ",\"seconds\":%.6f,\"msgs_per_sec\":%.0f,\"mbytes_per_sec\":%.2f"
	       ",\"kernel_sent\":%" PRIu64 ",\"kernel_dropped\":%" PRIu64
	       ",\"kernel_seconds\":%.6f,\"kernel_status\":%" PRId64 "}\n",
	       count, size, batch, received, datagrams, bytes, out_of_order,
	       enobufs, secs, received / secs, bytes / secs / 1e6, k_sent,
	       k_dropped, k_ns / 1e9, k_status);

	return received == count && !out_of_order && !enobufs && !k_status ?
		       0 : 1;
}
