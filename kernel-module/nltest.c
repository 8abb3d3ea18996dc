// SPDX-License-Identifier: GPL-2.0
/*
 * nltest - a netlink test peer.
 *
 * Provides, per network namespace, a classic netlink unit (protocol number
 * given by the "unit" module parameter) and a generic netlink family
 * "nltest". Both exist to exercise netlink client libraries: echo with acks,
 * requested failures with extended acks, multicast on more than 32 groups,
 * kernel-initiated periodic messages, lossy and lossless floods, and dumps
 * (optionally flagged NLM_F_DUMP_INTR or ending in an error).
 *
 * The wire protocol is defined in nltest_uapi.h and documented in README.md;
 * the generic netlink family is also described by nltest.yaml (YNL).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "nltest_uapi.h"

static int unit = NLTEST_UNIT_DEFAULT;
module_param(unit, int, 0444);
MODULE_PARM_DESC(unit, "Netlink protocol number of the classic unit (default 30)");

static bool pin;
module_param(pin, bool, 0444);
MODULE_PARM_DESC(pin,
		 "Make open unit sockets hold a module reference (rmmod then fails with EBUSY while one is open; default: no)");

static unsigned int nltest_net_id;

/* Per network namespace state. */
struct nltest_net {
	struct sock *sk;		/* the unit's kernel socket */
	struct mutex lock;		/* protects everything below */
	bool dying;			/* no new timers or floods */
	u32 last_flood_id;
	unsigned int nfloods;
	struct list_head floods;	/* struct nltest_flood */
	struct list_head timers;	/* struct nltest_timer */
	struct work_struct reap_work;	/* reaps finished floods */
};

/* A periodic sender of NLTEST_MSG_TICK to one group. */
struct nltest_timer {
	struct list_head node;
	struct delayed_work work;
	struct sock *sk;
	u32 group;
	u32 interval_ms;
	unsigned long interval;		/* jiffies */
	u64 limit;			/* 0: unlimited */
	u64 counter;
};

/* A flood, run by its own kernel thread. */
struct nltest_flood {
	struct list_head node;
	struct nltest_net *nn;
	struct task_struct *task;
	const struct sk_buff *req_skb;	/* until the thread is woken up */
	bool finished;			/* protected by nn->lock */
	bool abort;			/* set before SIGKILL is sent */
	u32 id;
	u32 portid;
	u32 seq;
	u32 count;
	u32 size;
	u32 batch;
	u32 mode;
};

/* Dump state, kept in netlink_callback::ctx. */
struct nltest_dump_ctx {
	u32 next;
	u32 count;
	u32 intr_at;			/* 0: never */
	u32 pad;
	u32 err;			/* positive errno to end with, or 0 */
};

static inline struct nltest_net *nltest_pernet(const struct net *net)
{
	return net_generic(net, nltest_net_id);
}

/* ------------------------------------------------------------------ */
/* Classic unit: attribute policy                                      */
/* ------------------------------------------------------------------ */

static struct netlink_range_validation nltest_miss_type_range = {
	.min = 1,
	.max = U16_MAX,
};

static struct netlink_range_validation nltest_interval_range = {
	.min = 1,
	.max = NLTEST_MAX_INTERVAL_MS,
};

static const struct nla_policy nltest_policy[NLTEST_A_MAX + 1] = {
	[NLTEST_A_GROUP]	= NLA_POLICY_RANGE(NLA_U32, 1, NLTEST_GROUPS),
	[NLTEST_A_PAYLOAD]	= { .type = NLA_BINARY, .len = NLTEST_MAX_PAYLOAD },
	[NLTEST_A_ERRNO]	= NLA_POLICY_MAX(NLA_U32, MAX_ERRNO),
	[NLTEST_A_ERRMSG]	= { .type = NLA_NUL_STRING, .len = NLTEST_MAX_ERRMSG },
	[NLTEST_A_MISS_TYPE]	= NLA_POLICY_FULL_RANGE(NLA_U32, &nltest_miss_type_range),
	[NLTEST_A_COOKIE]	= NLA_POLICY_RANGE(NLA_BINARY, 1, NLTEST_MAX_COOKIE),
	[NLTEST_A_INTERVAL_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &nltest_interval_range),
	[NLTEST_A_COUNT]	= { .type = NLA_U32 },
	[NLTEST_A_SIZE]		= { .type = NLA_U32 },
	[NLTEST_A_MODE]		= NLA_POLICY_MAX(NLA_U32, NLTEST_FLOOD_LOSSLESS),
	[NLTEST_A_BATCH]	= NLA_POLICY_RANGE(NLA_U32, 1, NLTEST_MAX_BATCH),
	[NLTEST_A_INDEX]	= { .type = NLA_U32 },
	[NLTEST_A_INTR_AT]	= NLA_POLICY_MIN(NLA_U32, 1),
};

/* ------------------------------------------------------------------ */
/* Classic unit: echo, fail, multicast                                 */
/* ------------------------------------------------------------------ */

static int nltest_echo(struct nltest_net *nn, struct sk_buff *skb,
		       const struct nlmsghdr *nlh)
{
	u32 portid = NETLINK_CB(skb).portid;
	int len = nlmsg_len(nlh);
	struct nlmsghdr *rep;
	struct sk_buff *out;

	out = nlmsg_new(len, GFP_KERNEL);
	if (!out)
		return -ENOMEM;

	rep = nlmsg_put(out, portid, nlh->nlmsg_seq, nlh->nlmsg_type, len, 0);
	if (!rep) {
		nlmsg_free(out);
		return -EMSGSIZE;
	}
	memcpy(nlmsg_data(rep), nlmsg_data(nlh), len);
	/*
	 * No nlmsg_end(): it would set nlmsg_len to the tail, padding included (a 1-byte payload
	 * would come back as 4). nlmsg_put() already set it to exactly the request's length; the
	 * padding is in the skb, as after any message.
	 */

	/* A full receiver loses the echo (and sees ENOBUFS), like any reply. */
	nlmsg_unicast(nn->sk, out, portid);
	return 0;
}

static int nltest_fail(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	u32 err;

	if (!tb[NLTEST_A_ERRNO]) {
		NL_SET_ERR_MSG_MOD(extack, "missing NLTEST_A_ERRNO");
		NL_SET_ERR_ATTR_MISS(extack, NULL, NLTEST_A_ERRNO);
		return -EINVAL;
	}
	err = nla_get_u32(tb[NLTEST_A_ERRNO]);

	if (tb[NLTEST_A_ERRMSG]) {
		/*
		 * NL_SET_ERR_MSG() only takes literals. The string lives in
		 * the request skb, which netlink_rcv_skb() keeps until the
		 * ack has been built, so pointing at it is safe.
		 */
		extack->_msg = nla_data(tb[NLTEST_A_ERRMSG]);
	} else if (err) {
		NL_SET_ERR_MSG_MOD(extack, "failure requested");
	} else {
		NL_SET_ERR_MSG_MOD(extack, "warning requested");
	}

	if (err)
		NL_SET_BAD_ATTR(extack, tb[NLTEST_A_ERRNO]);
	if (tb[NLTEST_A_MISS_TYPE])
		NL_SET_ERR_ATTR_MISS(extack, NULL,
				     nla_get_u32(tb[NLTEST_A_MISS_TYPE]));
	if (tb[NLTEST_A_COOKIE]) {
		extack->cookie_len = nla_len(tb[NLTEST_A_COOKIE]);
		memcpy(extack->cookie, nla_data(tb[NLTEST_A_COOKIE]),
		       extack->cookie_len);
	}

	return -(int)err;
}

static int nltest_mcast(struct nltest_net *nn, struct sk_buff *skb,
			const struct nlmsghdr *nlh, struct nlattr **tb,
			struct netlink_ext_ack *extack)
{
	u32 portid = NETLINK_CB(skb).portid;
	struct nlattr *payload = tb[NLTEST_A_PAYLOAD];
	struct nlmsghdr *rep;
	struct sk_buff *out;
	u32 group;

	if (NL_REQ_ATTR_CHECK(extack, NULL, tb, NLTEST_A_GROUP)) {
		NL_SET_ERR_MSG_MOD(extack, "missing NLTEST_A_GROUP");
		return -EINVAL;
	}
	group = nla_get_u32(tb[NLTEST_A_GROUP]);

	out = nlmsg_new(nla_total_size(sizeof(u32)) +
			(payload ? nla_total_size(nla_len(payload)) : 0),
			GFP_KERNEL);
	if (!out)
		return -ENOMEM;

	rep = nlmsg_put(out, portid, nlh->nlmsg_seq, NLTEST_MSG_MCAST, 0, 0);
	if (!rep ||
	    nla_put_u32(out, NLTEST_A_GROUP, group) ||
	    (payload && nla_put(out, NLTEST_A_PAYLOAD, nla_len(payload),
				nla_data(payload)))) {
		nlmsg_free(out);
		return -EMSGSIZE;
	}
	nlmsg_end(out, rep);

	/* NLM_F_ECHO: the requester gets one copy by unicast as well. */
	nlmsg_notify(nn->sk, out, portid, group,
		     nlh->nlmsg_flags & NLM_F_ECHO, GFP_KERNEL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Classic unit: kernel-initiated periodic messages                    */
/* ------------------------------------------------------------------ */

static void nltest_timer_fn(struct work_struct *work)
{
	struct nltest_timer *t = container_of(to_delayed_work(work),
					      struct nltest_timer, work);
	struct nlmsghdr *nlh;
	struct sk_buff *skb;

	t->counter++;

	skb = nlmsg_new(2 * nla_total_size(sizeof(u32)) +
			2 * nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!skb)
		goto requeue;

	nlh = nlmsg_put(skb, 0, (u32)t->counter, NLTEST_MSG_TICK, 0, 0);
	if (!nlh ||
	    nla_put_u32(skb, NLTEST_A_GROUP, t->group) ||
	    nla_put_u32(skb, NLTEST_A_INTERVAL_MS, t->interval_ms) ||
	    nla_put_u64_64bit(skb, NLTEST_A_COUNTER, t->counter,
			      NLTEST_A_PAD) ||
	    nla_put_u64_64bit(skb, NLTEST_A_TIMESTAMP_NS, ktime_get_ns(),
			      NLTEST_A_PAD)) {
		nlmsg_free(skb);
		goto requeue;
	}
	nlmsg_end(skb, nlh);

	/* -ESRCH (nobody listening) is not an error here. */
	nlmsg_multicast(t->sk, skb, 0, t->group, GFP_KERNEL);

requeue:
	if (!t->limit || t->counter < t->limit)
		queue_delayed_work(system_wq, &t->work, t->interval);
}

/* Called with nn->lock held. */
static struct nltest_timer *nltest_timer_find(struct nltest_net *nn, u32 group)
{
	struct nltest_timer *t;

	list_for_each_entry(t, &nn->timers, node)
		if (t->group == group)
			return t;
	return NULL;
}

static void nltest_timer_free(struct nltest_timer *t)
{
	cancel_delayed_work_sync(&t->work);
	kfree(t);
}

static int nltest_timer_start(struct nltest_net *nn, struct nlattr **tb,
			      struct netlink_ext_ack *extack)
{
	struct nltest_timer *t, *old;

	if (NL_REQ_ATTR_CHECK(extack, NULL, tb, NLTEST_A_GROUP)) {
		NL_SET_ERR_MSG_MOD(extack, "missing NLTEST_A_GROUP");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, NULL, tb, NLTEST_A_INTERVAL_MS)) {
		NL_SET_ERR_MSG_MOD(extack, "missing NLTEST_A_INTERVAL_MS");
		return -EINVAL;
	}

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	INIT_DELAYED_WORK(&t->work, nltest_timer_fn);
	t->sk = nn->sk;
	t->group = nla_get_u32(tb[NLTEST_A_GROUP]);
	t->interval_ms = nla_get_u32(tb[NLTEST_A_INTERVAL_MS]);
	t->interval = max(msecs_to_jiffies(t->interval_ms), 1UL);
	if (tb[NLTEST_A_COUNT])
		t->limit = nla_get_u32(tb[NLTEST_A_COUNT]);

	mutex_lock(&nn->lock);
	if (nn->dying) {
		mutex_unlock(&nn->lock);
		kfree(t);
		return -ESHUTDOWN;
	}
	/* Restarting a group replaces its timer (the counter restarts). */
	old = nltest_timer_find(nn, t->group);
	if (old) {
		list_del(&old->node);
		nltest_timer_free(old);
	}
	list_add_tail(&t->node, &nn->timers);
	queue_delayed_work(system_wq, &t->work, t->interval);
	mutex_unlock(&nn->lock);

	return 0;
}

static int nltest_timer_stop(struct nltest_net *nn, struct nlattr **tb,
			     struct netlink_ext_ack *extack)
{
	struct nltest_timer *t, *tmp;
	int err = 0;

	mutex_lock(&nn->lock);
	if (tb[NLTEST_A_GROUP]) {
		t = nltest_timer_find(nn, nla_get_u32(tb[NLTEST_A_GROUP]));
		if (t) {
			list_del(&t->node);
			nltest_timer_free(t);
		} else {
			NL_SET_ERR_MSG_ATTR(extack, tb[NLTEST_A_GROUP],
					    "no timer on this group");
			err = -ENOENT;
		}
	} else {
		list_for_each_entry_safe(t, tmp, &nn->timers, node) {
			list_del(&t->node);
			nltest_timer_free(t);
		}
	}
	mutex_unlock(&nn->lock);

	return err;
}

/* ------------------------------------------------------------------ */
/* Classic unit: floods                                                */
/* ------------------------------------------------------------------ */

static bool nltest_flood_aborted(const struct nltest_flood *f)
{
	return READ_ONCE(f->abort) || kthread_should_stop() ||
	       signal_pending(current);
}

static int nltest_flood_done(const struct nltest_flood *f, u64 sent,
			     u64 dropped, int status, u64 elapsed,
			     bool nonblock)
{
	struct nlmsghdr *nlh;
	struct sk_buff *skb;

	skb = nlmsg_new(2 * nla_total_size(sizeof(u32)) +
			3 * nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!skb)
		return -ENOMEM;

	nlh = nlmsg_put(skb, f->portid, f->seq, NLTEST_MSG_FLOOD_DONE, 0, 0);
	if (!nlh ||
	    nla_put_u32(skb, NLTEST_A_FLOOD_ID, f->id) ||
	    nla_put_s32(skb, NLTEST_A_STATUS, status) ||
	    nla_put_u64_64bit(skb, NLTEST_A_SENT, sent, NLTEST_A_PAD) ||
	    nla_put_u64_64bit(skb, NLTEST_A_DROPPED, dropped, NLTEST_A_PAD) ||
	    nla_put_u64_64bit(skb, NLTEST_A_ELAPSED_NS, elapsed,
			      NLTEST_A_PAD)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	nlmsg_end(skb, nlh);

	return netlink_unicast(f->nn->sk, skb, f->portid, nonblock);
}

static int nltest_flood_thread(void *data)
{
	struct nltest_flood *f = data;
	struct nltest_net *nn = f->nn;
	bool nonblock = f->mode == NLTEST_FLOOD_LOSSY;
	u64 sent = 0, dropped = 0, next = 0;
	int status = 0;
	u64 start;

	/*
	 * A blocking netlink_unicast() sleeps interruptibly until the
	 * receiver has room. SIGKILL (sent by nltest_floods_abort() after
	 * setting f->abort) is what gets us out of that sleep on netns exit
	 * or module unload; a closing receiver wakes us up by itself and
	 * the retry then fails with -ECONNREFUSED.
	 */
	allow_signal(SIGKILL);
	start = ktime_get_ns();

	while (next < f->count) {
		u32 n = min_t(u64, f->batch, f->count - next);
		struct nltest_flood_data *d;
		struct nlmsghdr *nlh;
		struct sk_buff *skb;
		u32 i;
		int err;

		if (nltest_flood_aborted(f)) {
			status = -ECANCELED;
			break;
		}

		skb = alloc_skb(n * nlmsg_total_size(f->size), GFP_KERNEL);
		if (!skb) {
			status = -ENOMEM;
			break;
		}
		for (i = 0; i < n; i++) {
			nlh = nlmsg_put(skb, f->portid, f->seq,
					NLTEST_MSG_FLOOD_DATA, f->size, 0);
			if (WARN_ON_ONCE(!nlh))	/* sized for n above */
				break;
			d = nlmsg_data(nlh);
			d->counter = next + i;
			d->flood_id = f->id;
			d->count = f->count;
			memset(d + 1, (u8)(next + i), f->size - sizeof(*d));
		}

		err = netlink_unicast(nn->sk, skb, f->portid, nonblock);
		if (err >= 0) {
			sent += n;
		} else if (err == -EAGAIN && nonblock) {
			/* netlink_overrun(): receiver gets ENOBUFS */
			dropped += n;
		} else {
			/* -ECONNREFUSED (receiver gone) or a signal */
			status = nltest_flood_aborted(f) ? -ECANCELED : err;
			break;
		}
		next += n;
		cond_resched();
	}

	if (status == -ECANCELED) {
		/* best effort only: never block once aborted */
		flush_signals(current);
		nltest_flood_done(f, sent, dropped, status,
				  ktime_get_ns() - start, true);
	} else if (status != -ECONNREFUSED) {
		/* wait for room: the summary must not be lost */
		nltest_flood_done(f, sent, dropped, status,
				  ktime_get_ns() - start, false);
	}
	flush_signals(current);

	mutex_lock(&nn->lock);
	f->finished = true;
	if (!nn->dying)
		schedule_work(&nn->reap_work);
	mutex_unlock(&nn->lock);

	/* Stay around until kthread_stop(): it is what frees us. */
	set_current_state(TASK_IDLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_IDLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void nltest_flood_reap(struct work_struct *work)
{
	struct nltest_net *nn = container_of(work, struct nltest_net,
					     reap_work);
	struct nltest_flood *f, *tmp;
	LIST_HEAD(done);

	mutex_lock(&nn->lock);
	list_for_each_entry_safe(f, tmp, &nn->floods, node) {
		if (f->finished) {
			list_move(&f->node, &done);
			nn->nfloods--;
		}
	}
	mutex_unlock(&nn->lock);

	list_for_each_entry_safe(f, tmp, &done, node) {
		list_del(&f->node);
		kthread_stop(f->task);
		kfree(f);
	}
}

/* Stops all floods of a namespace that is going away. */
static void nltest_floods_abort(struct nltest_net *nn)
{
	struct nltest_flood *f, *tmp;
	LIST_HEAD(floods);

	mutex_lock(&nn->lock);
	list_splice_init(&nn->floods, &floods);
	nn->nfloods = 0;
	mutex_unlock(&nn->lock);

	cancel_work_sync(&nn->reap_work);

	list_for_each_entry(f, &floods, node) {
		WRITE_ONCE(f->abort, true);
		/*
		 * Sent after f->abort is set: either the thread has called
		 * allow_signal() and the signal interrupts its wait, or it
		 * has not yet, drops the signal, and sees f->abort later.
		 */
		send_sig(SIGKILL, f->task, 1);
	}
	list_for_each_entry_safe(f, tmp, &floods, node) {
		list_del(&f->node);
		kthread_stop(f->task);
		kfree(f);
	}
}

static int nltest_flood(struct nltest_net *nn, struct sk_buff *skb,
			const struct nlmsghdr *nlh, struct nlattr **tb,
			struct netlink_ext_ack *extack)
{
	struct nltest_flood *f;
	struct task_struct *task;
	u64 dgram;
	int err;

	if (NL_REQ_ATTR_CHECK(extack, NULL, tb, NLTEST_A_COUNT)) {
		NL_SET_ERR_MSG_MOD(extack, "missing NLTEST_A_COUNT");
		return -EINVAL;
	}

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->nn = nn;
	f->portid = NETLINK_CB(skb).portid;
	f->seq = nlh->nlmsg_seq;
	f->count = nla_get_u32(tb[NLTEST_A_COUNT]);
	f->size = tb[NLTEST_A_SIZE] ? nla_get_u32(tb[NLTEST_A_SIZE]) :
				      sizeof(struct nltest_flood_data);
	f->mode = tb[NLTEST_A_MODE] ? nla_get_u32(tb[NLTEST_A_MODE]) :
				      NLTEST_FLOOD_LOSSY;
	f->batch = tb[NLTEST_A_BATCH] ? nla_get_u32(tb[NLTEST_A_BATCH]) : 1;

	err = -ERANGE;
	if (f->size < sizeof(struct nltest_flood_data)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NLTEST_A_SIZE],
				    "size must be at least 16");
		goto err_free;
	}
	dgram = (u64)f->batch * nlmsg_total_size((u64)f->size);
	if (dgram > NLTEST_MAX_DATAGRAM) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NLTEST_A_SIZE] ?: tb[NLTEST_A_BATCH],
				    "datagram (batch * message size) over 64 KiB");
		goto err_free;
	}

	mutex_lock(&nn->lock);
	err = -ESHUTDOWN;
	if (nn->dying)
		goto err_unlock;
	err = -EBUSY;
	if (nn->nfloods >= NLTEST_MAX_FLOODS) {
		NL_SET_ERR_MSG_MOD(extack, "too many floods running");
		goto err_unlock;
	}
	f->id = ++nn->last_flood_id;
	task = kthread_create(nltest_flood_thread, f, "nltest-flood/%u",
			      f->id);
	if (IS_ERR(task)) {
		err = PTR_ERR(task);
		goto err_unlock;
	}
	f->task = task;
	/* woken up by nltest_floods_kick() once the ack has been queued */
	f->req_skb = skb;
	list_add_tail(&f->node, &nn->floods);
	nn->nfloods++;
	mutex_unlock(&nn->lock);

	nl_set_extack_cookie_u64(extack, f->id);
	return 0;

err_unlock:
	mutex_unlock(&nn->lock);
err_free:
	kfree(f);
	return err;
}

/* Starts the floods requested in @skb, after their acks were sent. */
static void nltest_floods_kick(struct nltest_net *nn, const struct sk_buff *skb)
{
	struct nltest_flood *f;

	mutex_lock(&nn->lock);
	list_for_each_entry(f, &nn->floods, node) {
		if (f->req_skb == skb) {
			f->req_skb = NULL;
			wake_up_process(f->task);
		}
	}
	mutex_unlock(&nn->lock);
}

/* ------------------------------------------------------------------ */
/* Classic unit: entries (get and dump)                                */
/* ------------------------------------------------------------------ */

static size_t nltest_entry_size(u32 pad)
{
	return nlmsg_total_size(nla_total_size(sizeof(u32)) +
				nla_total_size_64bit(sizeof(u64)) +
				nla_total_size(sizeof("entry-4294967295")) +
				(pad ? nla_total_size(pad) : 0));
}

static int nltest_fill_entry(struct sk_buff *skb, u32 portid, u32 seq,
			     u16 flags, u32 index, u32 pad,
			     struct netlink_callback *cb)
{
	struct nlmsghdr *nlh;
	char name[sizeof("entry-4294967295")];
	struct nlattr *attr;

	nlh = nlmsg_put(skb, portid, seq, NLTEST_MSG_ENTRY, 0, flags);
	if (!nlh)
		return -EMSGSIZE;
	if (cb)
		nl_dump_check_consistent(cb, nlh);

	snprintf(name, sizeof(name), "entry-%u", index);
	if (nla_put_u32(skb, NLTEST_A_INDEX, index) ||
	    nla_put_u64_64bit(skb, NLTEST_A_VALUE, (u64)index * index,
			      NLTEST_A_PAD) ||
	    nla_put_string(skb, NLTEST_A_NAME, name))
		goto cancel;
	if (pad) {
		attr = nla_reserve(skb, NLTEST_A_PAYLOAD, pad);
		if (!attr)
			goto cancel;
		memset(nla_data(attr), (u8)index, pad);
	}
	nlmsg_end(skb, nlh);
	return 0;

cancel:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

static int nltest_dump_start(struct netlink_callback *cb)
{
	struct nltest_dump_ctx *ctx = (struct nltest_dump_ctx *)cb->ctx;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	*ctx = *(const struct nltest_dump_ctx *)cb->data;
	cb->data = NULL;	/* pointed to the requester's stack */
	return 0;
}

/* cb->seq is the "generation": it changes at entry intr_at. */
static void nltest_dump_set_gen(struct netlink_callback *cb,
				const struct nltest_dump_ctx *ctx)
{
	cb->seq = (ctx->intr_at && ctx->next >= ctx->intr_at) ? 2 : 1;
}

static int nltest_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nltest_dump_ctx *ctx = (struct nltest_dump_ctx *)cb->ctx;
	u32 portid = NETLINK_CB(cb->skb).portid;
	u32 seq = cb->nlh->nlmsg_seq;

	while (ctx->next < ctx->count) {
		nltest_dump_set_gen(cb, ctx);
		if (nltest_fill_entry(skb, portid, seq, NLM_F_MULTI, ctx->next,
				      ctx->pad, cb)) {
			/* min_dump_alloc guarantees room for one entry */
			if (!skb->len)
				return -EMSGSIZE;
			return skb->len;
		}
		ctx->next++;
	}

	/* Also decides whether NLMSG_DONE gets NLM_F_DUMP_INTR. */
	nltest_dump_set_gen(cb, ctx);
	if (ctx->err) {
		NL_SET_ERR_MSG_MOD(cb->extack, "dump failed as requested");
		return -(int)ctx->err;
	}
	return 0;
}

static int nltest_entry(struct nltest_net *nn, struct sk_buff *skb,
			const struct nlmsghdr *nlh, struct nlattr **tb,
			struct netlink_ext_ack *extack)
{
	u32 portid = NETLINK_CB(skb).portid;
	struct nltest_dump_ctx req = {};
	struct sk_buff *out;
	u32 index, pad = 0;
	int err;

	if (tb[NLTEST_A_SIZE]) {
		pad = nla_get_u32(tb[NLTEST_A_SIZE]);
		if (pad > NLTEST_MAX_ENTRY_PAD) {
			NL_SET_ERR_MSG_ATTR(extack, tb[NLTEST_A_SIZE],
					    "entry padding over 4096 bytes");
			return -ERANGE;
		}
	}

	if (nlh->nlmsg_flags & NLM_F_DUMP) {
		struct netlink_dump_control c = {
			.start = nltest_dump_start,
			.dump = nltest_dump,
			.data = &req,
			.min_dump_alloc = nltest_entry_size(pad) +
					  nlmsg_total_size(sizeof(int)),
		};

		req.count = tb[NLTEST_A_COUNT] ?
			    nla_get_u32(tb[NLTEST_A_COUNT]) : 10;
		req.pad = pad;
		if (tb[NLTEST_A_INTR_AT])
			req.intr_at = nla_get_u32(tb[NLTEST_A_INTR_AT]);
		if (tb[NLTEST_A_ERRNO])
			req.err = nla_get_u32(tb[NLTEST_A_ERRNO]);
		return netlink_dump_start(nn->sk, skb, nlh, &c);
	}

	if (NL_REQ_ATTR_CHECK(extack, NULL, tb, NLTEST_A_INDEX)) {
		NL_SET_ERR_MSG_MOD(extack, "missing NLTEST_A_INDEX");
		return -EINVAL;
	}
	index = nla_get_u32(tb[NLTEST_A_INDEX]);

	out = nlmsg_new(nltest_entry_size(pad), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	err = nltest_fill_entry(out, portid, nlh->nlmsg_seq, 0, index, pad,
				NULL);
	if (err) {
		nlmsg_free(out);
		return err;
	}
	nlmsg_unicast(nn->sk, out, portid);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Classic unit: input                                                 */
/* ------------------------------------------------------------------ */

static int nltest_rcv_msg(struct sk_buff *skb, struct nlmsghdr *nlh,
			  struct netlink_ext_ack *extack)
{
	struct nltest_net *nn = nltest_pernet(sock_net(skb->sk));
	struct nlattr *tb[NLTEST_A_MAX + 1];
	int err;

	/* echo takes any payload, not attributes */
	if (nlh->nlmsg_type == NLTEST_MSG_ECHO)
		return nltest_echo(nn, skb, nlh);

	err = nlmsg_parse(nlh, 0, tb, NLTEST_A_MAX, nltest_policy, extack);
	if (err)
		return err;

	switch (nlh->nlmsg_type) {
	case NLTEST_MSG_FAIL:
		return nltest_fail(tb, extack);
	case NLTEST_MSG_MCAST:
		return nltest_mcast(nn, skb, nlh, tb, extack);
	case NLTEST_MSG_TIMER_START:
		return nltest_timer_start(nn, tb, extack);
	case NLTEST_MSG_TIMER_STOP:
		return nltest_timer_stop(nn, tb, extack);
	case NLTEST_MSG_FLOOD:
		return nltest_flood(nn, skb, nlh, tb, extack);
	case NLTEST_MSG_ENTRY:
		return nltest_entry(nn, skb, nlh, tb, extack);
	default:
		NL_SET_ERR_MSG_MOD(extack, "unsupported message type");
		return -EOPNOTSUPP;
	}
}

static void nltest_rcv(struct sk_buff *skb)
{
	struct nltest_net *nn = nltest_pernet(sock_net(skb->sk));

	netlink_rcv_skb(skb, nltest_rcv_msg);
	nltest_floods_kick(nn, skb);
}

/* ------------------------------------------------------------------ */
/* Classic unit: per network namespace setup                           */
/* ------------------------------------------------------------------ */

static int __net_init nltest_net_init(struct net *net)
{
	struct nltest_net *nn = nltest_pernet(net);
	struct netlink_kernel_cfg cfg = {
		.groups	= NLTEST_GROUPS,
		.flags	= NL_CFG_F_NONROOT_RECV | NL_CFG_F_NONROOT_SEND,
		.input	= nltest_rcv,
		/*
		 * No cb_mutex, bind or unbind: user sockets copy those
		 * pointers and keep them after an unpinned unload.
		 */
	};

	mutex_init(&nn->lock);
	INIT_LIST_HEAD(&nn->floods);
	INIT_LIST_HEAD(&nn->timers);
	INIT_WORK(&nn->reap_work, nltest_flood_reap);

	nn->sk = __netlink_kernel_create(net, unit, pin ? THIS_MODULE : NULL,
					 &cfg);
	if (!nn->sk) {
		pr_err("cannot create netlink unit %d (in use?)\n", unit);
		return -EBUSY;
	}
	return 0;
}

/*
 * Releases the unit's kernel socket and waits until no user sendmsg() is
 * still running nltest_rcv() on it. Without "pin", user sockets do not hold
 * a module reference, so that is what makes unloading safe: a sender holds
 * a reference on the kernel socket (taken by netlink_getsockbyportid())
 * for the whole time it calls our input function. The hash table lookup
 * runs under RCU, and the socket's own last reference is dropped from an
 * RCU callback after release, so once the count is down to our own
 * reference nobody can be, or get, inside nltest_rcv() any more.
 */
static void nltest_release_sock(struct sock *sk)
{
	unsigned int waited = 0;

	sock_hold(sk);
	netlink_kernel_release(sk);
	while (refcount_read(&sk->sk_refcnt) > 1) {
		usleep_range(1000, 2000);
		if (++waited == 10000)
			pr_warn("still waiting for netlink senders to leave\n");
	}
	sock_put(sk);
}

static void __net_exit nltest_net_exit(struct net *net)
{
	struct nltest_net *nn = nltest_pernet(net);
	struct nltest_timer *t, *tmp;
	LIST_HEAD(timers);

	mutex_lock(&nn->lock);
	nn->dying = true;
	list_splice_init(&nn->timers, &timers);
	mutex_unlock(&nn->lock);

	list_for_each_entry_safe(t, tmp, &timers, node) {
		list_del(&t->node);
		nltest_timer_free(t);
	}
	nltest_floods_abort(nn);

	nltest_release_sock(nn->sk);
	nn->sk = NULL;
}

static struct pernet_operations nltest_net_ops = {
	.init	= nltest_net_init,
	.exit	= nltest_net_exit,
	.id	= &nltest_net_id,
	.size	= sizeof(struct nltest_net),
};

/* ------------------------------------------------------------------ */
/* Generic netlink family                                              */
/* ------------------------------------------------------------------ */

static struct genl_family nltest_genl_family;

enum nltest_genl_mcgrp {
	NLTEST_GENL_MCGRP_EVENTS,
};

static const struct genl_multicast_group nltest_genl_mcgrps[] = {
	[NLTEST_GENL_MCGRP_EVENTS] = { .name = NLTEST_MCGRP_EVENTS },
};

static const struct nla_policy nltest_genl_echo_policy[NLTEST_GENL_A_PAYLOAD + 1] = {
	[NLTEST_GENL_A_MSG]	= { .type = NLA_NUL_STRING,
				    .len = NLTEST_GENL_MSG_MAX_LEN },
	[NLTEST_GENL_A_VALUE]	= NLA_POLICY_RANGE(NLA_U32, NLTEST_GENL_VALUE_MIN,
						   NLTEST_GENL_VALUE_MAX),
	[NLTEST_GENL_A_PAYLOAD]	= { .type = NLA_BINARY,
				    .len = NLTEST_GENL_PAYLOAD_MAX_LEN },
};

static struct netlink_range_validation nltest_genl_count_range = {
	.max = NLTEST_GENL_COUNT_MAX,
};

static const struct nla_policy nltest_genl_list_policy[NLTEST_GENL_A_COUNT + 1] = {
	[NLTEST_GENL_A_COUNT]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							&nltest_genl_count_range),
};

static const int nltest_genl_echo_attrs[] = {
	NLTEST_GENL_A_MSG, NLTEST_GENL_A_VALUE, NLTEST_GENL_A_PAYLOAD,
};

/* Builds a message carrying the request's msg/value/payload attributes. */
static struct sk_buff *nltest_genl_build(struct genl_info *info, u8 cmd)
{
	struct sk_buff *skb;
	size_t size = 0;
	void *hdr;
	int i;

	for (i = 0; i < ARRAY_SIZE(nltest_genl_echo_attrs); i++) {
		struct nlattr *a = info->attrs[nltest_genl_echo_attrs[i]];

		if (a)
			size += nla_total_size(nla_len(a));
	}

	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return ERR_PTR(-ENOMEM);

	hdr = genlmsg_put(skb, info->snd_portid, info->snd_seq,
			  &nltest_genl_family, 0, cmd);
	if (!hdr)
		goto err;

	for (i = 0; i < ARRAY_SIZE(nltest_genl_echo_attrs); i++) {
		int type = nltest_genl_echo_attrs[i];
		struct nlattr *a = info->attrs[type];

		if (a && nla_put(skb, type, nla_len(a), nla_data(a)))
			goto err;
	}
	genlmsg_end(skb, hdr);
	return skb;

err:
	nlmsg_free(skb);
	return ERR_PTR(-EMSGSIZE);
}

static int nltest_genl_echo(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg = nltest_genl_build(info, NLTEST_GENL_CMD_ECHO);

	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return genlmsg_reply(msg, info);
}

static int nltest_genl_notify(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg = nltest_genl_build(info, NLTEST_GENL_CMD_EVENT);

	if (IS_ERR(msg))
		return PTR_ERR(msg);
	/* multicast in the requester's netns; NLM_F_ECHO also unicasts */
	genl_notify(&nltest_genl_family, msg, info, NLTEST_GENL_MCGRP_EVENTS,
		    GFP_KERNEL);
	return 0;
}

static int nltest_genl_list(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr *count_attr = info->attrs[NLTEST_GENL_A_COUNT];
	u32 count = count_attr ? nla_get_u32(count_attr) : 10;
	u32 i = cb->args[0];
	char name[NLTEST_GENL_MSG_MAX_LEN + 1];
	void *hdr;

	for (; i < count; i++) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &nltest_genl_family,
				  NLM_F_MULTI, NLTEST_GENL_CMD_LIST);
		if (!hdr)
			break;
		snprintf(name, sizeof(name), "item-%u", i);
		if (nla_put_u32(skb, NLTEST_GENL_A_INDEX, i) ||
		    nla_put_string(skb, NLTEST_GENL_A_MSG, name)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = i;

	return i < count ? skb->len : 0;
}

static const struct genl_ops nltest_genl_ops[] = {
	{
		.cmd		= NLTEST_GENL_CMD_ECHO,
		.doit		= nltest_genl_echo,
		.policy		= nltest_genl_echo_policy,
		.maxattr	= ARRAY_SIZE(nltest_genl_echo_policy) - 1,
	},
	{
		.cmd		= NLTEST_GENL_CMD_NOTIFY,
		.doit		= nltest_genl_notify,
		.policy		= nltest_genl_echo_policy,
		.maxattr	= ARRAY_SIZE(nltest_genl_echo_policy) - 1,
	},
	{
		.cmd		= NLTEST_GENL_CMD_LIST,
		.dumpit		= nltest_genl_list,
		.policy		= nltest_genl_list_policy,
		.maxattr	= ARRAY_SIZE(nltest_genl_list_policy) - 1,
	},
};

static struct genl_family nltest_genl_family = {
	.name		= NLTEST_FAMILY_NAME,
	.version	= NLTEST_FAMILY_VERSION,
	.maxattr	= NLTEST_GENL_A_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= nltest_genl_ops,
	.n_ops		= ARRAY_SIZE(nltest_genl_ops),
	.mcgrps		= nltest_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(nltest_genl_mcgrps),
};

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static int __init nltest_init(void)
{
	int err;

	if (unit < 0 || unit >= MAX_LINKS) {
		pr_err("unit must be 0..%d\n", MAX_LINKS - 1);
		return -EINVAL;
	}

	err = register_pernet_subsys(&nltest_net_ops);
	if (err)
		return err;

	err = genl_register_family(&nltest_genl_family);
	if (err) {
		unregister_pernet_subsys(&nltest_net_ops);
		return err;
	}

	pr_info("netlink unit %d, genl family \"%s\"%s\n", unit,
		NLTEST_FAMILY_NAME, pin ? " (pinned by unit sockets)" : "");
	return 0;
}

static void __exit nltest_exit(void)
{
	genl_unregister_family(&nltest_genl_family);
	unregister_pernet_subsys(&nltest_net_ops);
	pr_info("unloaded\n");
}

module_init(nltest_init);
module_exit(nltest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Netlink test peer: classic unit and generic netlink family");
MODULE_AUTHOR("netlink library project");
