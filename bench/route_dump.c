// SPDX-License-Identifier: MIT
/*
 * route_dump - the floor for bench/run.sh: dumps every IPv4 route of a network namespace
 * with one blocking recv() per datagram and walks each message with NLMSG_OK/NLMSG_NEXT,
 * decoding the same four fields as bench/route_dump.ts. Prints the median of ITERATIONS runs
 * in milliseconds.
 *
 *   cc -O2 -o bench/route_dump bench/route_dump.c && bench/route_dump NETNS [ITERATIONS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static char buf[1 << 20];

int main(int argc, char **argv)
{
	char path[256];
	int iterations = argc > 2 ? atoi(argv[2]) : 10;
	double times[1000];
	unsigned long sum = 0;
	long routes = 0;

	if (argc < 2 || iterations < 1 || iterations > 1000) {
		fprintf(stderr, "usage: %s NETNS [ITERATIONS]\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", argv[1]);
	if (setns(open(path, O_RDONLY), CLONE_NEWNET)) {
		perror("setns");
		return 1;
	}
	for (int r = -1; r < iterations; r++) { /* r = -1 warms up */
		struct {
			struct nlmsghdr h;
			struct rtmsg m;
		} req = { { sizeof(req), RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 },
			  { .rtm_family = AF_INET } };
		int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		double t0 = now_ms();
		int done = 0;

		routes = 0;
		send(fd, &req, sizeof(req), 0);
		while (!done) {
			int len = recv(fd, buf, sizeof(buf), 0);

			if (len < 0) {
				perror("recv");
				return 1;
			}
			for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
				struct rtmsg *rt = NLMSG_DATA(h);
				int alen = RTM_PAYLOAD(h);

				if (h->nlmsg_type == NLMSG_DONE) {
					done = 1;
					break;
				}
				sum += rt->rtm_dst_len + rt->rtm_table;
				for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
					if (a->rta_type == RTA_DST || a->rta_type == RTA_OIF ||
					    a->rta_type == RTA_TABLE)
						sum += *(unsigned int *)RTA_DATA(a);
				routes++;
			}
		}
		close(fd);
		if (r >= 0)
			times[r] = now_ms() - t0;
	}
	qsort(times, iterations, sizeof(double), cmp);
	printf("{\"routes\":%ld,\"medianMs\":%.3f,\"check\":%lu}\n", routes, times[iterations / 2],
	       sum & 1);
	return 0;
}
