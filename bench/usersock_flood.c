// SPDX-License-Identifier: MIT
/*
 * usersock_flood - a native stand-in for the module's lossless flood (which only runs in the
 * TCG guest): a sender process unicasts COUNT messages of SIZE bytes, BATCH per datagram, over
 * NETLINK_USERSOCK to a port, blocking while the receiver's buffer is full (no loss).
 *
 *   usersock_flood send PORT COUNT SIZE BATCH   sender only (for another receiver)
 *   usersock_flood recv COUNT SIZE BATCH        C receiver: forks the sender, prints JSON
 *   usersock_flood recv-lib COUNT SIZE BATCH    the same, reading as the library does: one
 *                                               nonblocking recvmmsg(MSG_TRUNC) of up to 16
 *                                               datagrams, each with address and
 *                                               NETLINK_PKTINFO into a 512 KiB slot of its
 *                                               own, poll() when the socket is empty
 *
 * Each message carries its index (u64) first; the receiver walks with NLMSG_OK/NLMSG_NEXT.
 * The clock starts at the first message received (what starting the sender costs is not the
 * receiver's: a fork here, a process spawn of tens of ms in Deno and Bun), so msgs_per_sec is
 * the messages after the first over the time since it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netlink.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int send_flood(uint32_t port, long count, int size, int batch)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = port };
	int msg = NLMSG_ALIGN(NLMSG_HDRLEN + size);
	char *buf = calloc(batch, msg);

	for (long i = 0; i < count;) {
		int n = 0;

		for (; n < batch && i < count; n++, i++) {
			struct nlmsghdr *h = (struct nlmsghdr *)(buf + n * msg);

			h->nlmsg_len = NLMSG_HDRLEN + size;
			h->nlmsg_type = 0x17;
			memcpy(NLMSG_DATA(h), &i, sizeof(i));
		}
		if (sendto(fd, buf, n * msg, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("sendto");
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "send"))
		return send_flood(strtoul(argv[2], 0, 10), atol(argv[3]), atoi(argv[4]), atoi(argv[5]));
	int lib = argc == 5 && !strcmp(argv[1], "recv-lib");

	if (argc != 5 || (strcmp(argv[1], "recv") && !lib)) {
		fprintf(stderr, "usage: %s send PORT COUNT SIZE BATCH | recv[-lib] COUNT SIZE BATCH\n",
			argv[0]);
		return 2;
	}
	long count = atol(argv[2]), received = 0, out_of_order = 0, next = 0;
	int size = atoi(argv[3]), batch = atoi(argv[4]);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(me);
	int rcvbuf = 1 << 20;
	static char buf[512 << 10];
	enum { SLOTS = 16, SLOT = 512 << 10 };
	static char slots[SLOTS][SLOT];
	static struct sockaddr_nl names[SLOTS];
	static char controls[SLOTS][96];
	static struct iovec iovs[SLOTS];
	static struct mmsghdr mm[SLOTS];

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (lib)
		setsockopt(fd, SOL_NETLINK, NETLINK_PKTINFO, &(int){ 1 }, sizeof(int));
	bind(fd, (struct sockaddr *)&me, sizeof(me));
	getsockname(fd, (struct sockaddr *)&me, &len);
	double t0 = 0;
	pid_t child = fork();

	if (child == 0)
		_exit(send_flood(me.nl_pid, count, size, batch));
	for (int i = 0; i < SLOTS; i++) {
		iovs[i] = (struct iovec){ slots[i], SLOT };
		mm[i].msg_hdr = (struct msghdr){ &names[i], sizeof(names[i]), &iovs[i], 1,
						 controls[i], sizeof(controls[i]), 0 };
	}
	while (received < count) {
		int datagrams = 1;

		if (lib) {
			for (int i = 0; i < SLOTS; i++) {
				mm[i].msg_hdr.msg_namelen = sizeof(names[i]);
				mm[i].msg_hdr.msg_controllen = sizeof(controls[i]);
			}
			datagrams = recvmmsg(fd, mm, SLOTS, MSG_DONTWAIT | MSG_TRUNC, NULL);
			if (datagrams < 0 && errno == EAGAIN) {
				struct pollfd p = { fd, POLLIN, 0 };

				poll(&p, 1, -1);
				continue;
			}
			if (datagrams < 0) {
				perror("recvmmsg");
				return 1;
			}
		}
		for (int d = 0; d < datagrams; d++) {
			char *data = lib ? slots[d] : buf;
			int n = lib ? (int)mm[d].msg_len : (int)recv(fd, buf, sizeof(buf), 0);

			if (n < 0) {
				perror("recv");
				return 1;
			}
			if (n > (lib ? SLOT : (int)sizeof(buf))) {
				fprintf(stderr, "truncated\n");
				return 1;
			}
			for (struct nlmsghdr *h = (void *)data; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
				long index;

				memcpy(&index, NLMSG_DATA(h), sizeof(index));
				out_of_order += index != next;
				next = index + 1;
				if (received++ == 0)
					t0 = now();
			}
		}
	}
	double secs = now() - t0;

	waitpid(child, NULL, 0);
	printf("{\"bench\":\"%s\",\"received\":%ld,\"out_of_order\":%ld,\"msgs_per_sec\":%.0f}\n",
	       lib ? "c lib" : "c", received, out_of_order, (received - 1) / secs);
	return 0;
}
