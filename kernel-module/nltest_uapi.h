/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * Wire protocol of the nltest kernel module.
 *
 * This header is the single source of the protocol's numbers. It is
 * included by the module (nltest.c) and by user space clients
 * (tools/nltest_client.c, ../bench/flood_recv.c). See README.md for the
 * semantics of every message, attribute and group.
 *
 * Two interfaces:
 *  1. A classic netlink unit (protocol number = module parameter "unit",
 *     default NLTEST_UNIT_DEFAULT), one kernel socket per network namespace,
 *     message types NLTEST_MSG_*, attributes NLTEST_A_*, multicast groups
 *     1..NLTEST_GROUPS.
 *  2. A generic netlink family NLTEST_FAMILY_NAME (described by nltest.yaml),
 *     commands NLTEST_GENL_CMD_*, attributes NLTEST_GENL_A_*, multicast group
 *     NLTEST_MCGRP_EVENTS.
 *
 * All integers are in host byte order.
 */
#ifndef _UAPI_NLTEST_H
#define _UAPI_NLTEST_H

#include <linux/types.h>

/* ------------------------------------------------------------------ */
/* Classic netlink unit                                                */
/* ------------------------------------------------------------------ */

#define NLTEST_UNIT_DEFAULT	30	/* netlink protocol number (MAX_LINKS is 32) */
#define NLTEST_GROUPS		64	/* multicast groups 1..64 */

/* Message types (nlmsg_type); all >= NLMSG_MIN_TYPE (0x10). */
enum nltest_msg_type {
	/* user -> kernel: any payload; kernel -> user: the same payload back */
	NLTEST_MSG_ECHO = 0x10,
	/* user -> kernel: fail with a chosen errno and extended ack */
	NLTEST_MSG_FAIL = 0x11,
	/* user -> kernel: send to a multicast group; also the notification type */
	NLTEST_MSG_MCAST = 0x12,
	/* user -> kernel: start the periodic sender (kernel-initiated messages) */
	NLTEST_MSG_TIMER_START = 0x13,
	/* user -> kernel: stop one (or all) periodic senders */
	NLTEST_MSG_TIMER_STOP = 0x14,
	/* kernel -> group: one periodic message */
	NLTEST_MSG_TICK = 0x15,
	/* user -> kernel: start a flood of messages to the requester */
	NLTEST_MSG_FLOOD = 0x16,
	/* kernel -> user: one flood message (struct nltest_flood_data + filler) */
	NLTEST_MSG_FLOOD_DATA = 0x17,
	/* kernel -> user: end of a flood, with counts */
	NLTEST_MSG_FLOOD_DONE = 0x18,
	/* user -> kernel: get one entry (INDEX) or dump entries (NLM_F_DUMP);
	 * kernel -> user: one entry
	 */
	NLTEST_MSG_ENTRY = 0x19,

	__NLTEST_MSG_MAX,
	NLTEST_MSG_MAX = __NLTEST_MSG_MAX - 1
};

/* Attributes of the classic unit (one attribute space for all types). */
enum nltest_attr {
	NLTEST_A_UNSPEC,
	NLTEST_A_PAD,		/* padding for 64-bit attributes; ignore */
	NLTEST_A_GROUP,		/* u32, multicast group 1..NLTEST_GROUPS */
	NLTEST_A_PAYLOAD,	/* binary, at most NLTEST_MAX_PAYLOAD bytes */
	NLTEST_A_ERRNO,		/* u32, 0..4095 (positive errno) */
	NLTEST_A_ERRMSG,	/* NUL-terminated string, < NLTEST_MAX_ERRMSG */
	NLTEST_A_MISS_TYPE,	/* u32, 1..65535: attribute type to report missing */
	NLTEST_A_COOKIE,	/* binary, 1..NLTEST_MAX_COOKIE bytes */
	NLTEST_A_INTERVAL_MS,	/* u32, 1..3600000 */
	NLTEST_A_COUNT,		/* u32 */
	NLTEST_A_SIZE,		/* u32 */
	NLTEST_A_MODE,		/* u32, enum nltest_flood_mode */
	NLTEST_A_BATCH,		/* u32, messages per datagram, 1..NLTEST_MAX_BATCH */
	NLTEST_A_COUNTER,	/* u64 */
	NLTEST_A_TIMESTAMP_NS,	/* u64, CLOCK_MONOTONIC nanoseconds */
	NLTEST_A_SENT,		/* u64 */
	NLTEST_A_DROPPED,	/* u64 */
	NLTEST_A_STATUS,	/* s32, 0 or a negative errno */
	NLTEST_A_ELAPSED_NS,	/* u64 */
	NLTEST_A_FLOOD_ID,	/* u32 */
	NLTEST_A_INDEX,		/* u32 */
	NLTEST_A_VALUE,		/* u64 */
	NLTEST_A_NAME,		/* NUL-terminated string */
	NLTEST_A_INTR_AT,	/* u32, >= 1 */

	__NLTEST_A_MAX,
	NLTEST_A_MAX = __NLTEST_A_MAX - 1
};

/* Limits enforced by the module's attribute policy. */
#define NLTEST_MAX_PAYLOAD	65000
#define NLTEST_MAX_ERRMSG	200	/* characters, without the NUL */
#define NLTEST_MAX_COOKIE	20	/* NETLINK_MAX_COOKIE_LEN in 6.1 */
#define NLTEST_MAX_INTERVAL_MS	3600000
#define NLTEST_MAX_BATCH	1024
#define NLTEST_MAX_DATAGRAM	65536	/* flood: BATCH * NLMSG_ALIGN(16 + SIZE) */
#define NLTEST_MAX_ENTRY_PAD	4096	/* entry dump: SIZE of NLTEST_A_PAYLOAD */
#define NLTEST_MAX_FLOODS	16	/* concurrent floods per network namespace */

enum nltest_flood_mode {
	/* netlink_unicast() non-blocking: full receiver => drop + ENOBUFS */
	NLTEST_FLOOD_LOSSY = 0,
	/* netlink_unicast() blocking: the sender waits for room, no loss */
	NLTEST_FLOOD_LOSSLESS = 1,
};

/*
 * Payload of NLTEST_MSG_FLOOD_DATA: this header followed by
 * (NLTEST_A_SIZE - sizeof(struct nltest_flood_data)) filler bytes, each
 * equal to (__u8)counter.
 */
struct nltest_flood_data {
	__u64 counter;		/* 0 .. count-1, in sending order */
	__u32 flood_id;		/* same as NLTEST_A_FLOOD_ID in FLOOD_DONE */
	__u32 count;		/* number of messages requested */
};

/* ------------------------------------------------------------------ */
/* Generic netlink family (see nltest.yaml)                            */
/* ------------------------------------------------------------------ */

#define NLTEST_FAMILY_NAME	"nltest"
#define NLTEST_FAMILY_VERSION	1

#define NLTEST_GENL_MSG_MAX_LEN		31	/* characters, without the NUL */
#define NLTEST_GENL_VALUE_MIN		1
#define NLTEST_GENL_VALUE_MAX		100
#define NLTEST_GENL_PAYLOAD_MAX_LEN	1024
#define NLTEST_GENL_COUNT_MAX		1000000

enum {
	NLTEST_GENL_A_MSG = 1,	/* string (NUL-terminated), max 31 characters */
	NLTEST_GENL_A_VALUE,	/* u32, 1..100 */
	NLTEST_GENL_A_PAYLOAD,	/* binary, max 1024 bytes */
	NLTEST_GENL_A_COUNT,	/* u32, 0..1000000 (list dump) */
	NLTEST_GENL_A_INDEX,	/* u32 (list dump reply) */

	__NLTEST_GENL_A_MAX,
	NLTEST_GENL_A_MAX = (__NLTEST_GENL_A_MAX - 1)
};

enum {
	NLTEST_GENL_CMD_ECHO = 1,	/* do: reply with the request's attributes */
	NLTEST_GENL_CMD_NOTIFY,		/* do: send an EVENT to "events" */
	NLTEST_GENL_CMD_EVENT,		/* notification on "events" */
	NLTEST_GENL_CMD_LIST,		/* dump: COUNT entries */

	__NLTEST_GENL_CMD_MAX,
	NLTEST_GENL_CMD_MAX = (__NLTEST_GENL_CMD_MAX - 1)
};

#define NLTEST_MCGRP_EVENTS	"events"

#endif /* _UAPI_NLTEST_H */
