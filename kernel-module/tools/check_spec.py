#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that nltest.yaml describes the live "nltest" genetlink family.

Asks the kernel (CTRL_CMD_GETFAMILY, CTRL_CMD_GETPOLICY) for the family's
operations, multicast groups, maxattr and per-operation attribute policies,
and compares them with the YNL spec: operation ids and do/dump capabilities,
request attributes of each operation (exactly), attribute types and checks
(min/max, max-len), group names. Also validates the spec against the
genetlink JSON schema when one is given (needs python3-jsonschema).

Usage (as root, module loaded):
    check_spec.py [SPEC] [--schema genetlink.yaml]
Exit status 0 when everything matches.
"""
import os
import socket
import struct
import sys

import yaml

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
CTRL_CMD_GETFAMILY, CTRL_CMD_GETPOLICY = 3, 10
(CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_VERSION,
 CTRL_ATTR_HDRSIZE, CTRL_ATTR_MAXATTR, CTRL_ATTR_OPS, CTRL_ATTR_MCAST_GROUPS,
 CTRL_ATTR_POLICY, CTRL_ATTR_OP_POLICY, CTRL_ATTR_OP) = range(1, 11)
CTRL_ATTR_OP_ID, CTRL_ATTR_OP_FLAGS = 1, 2
CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_MCAST_GRP_ID = 1, 2
CTRL_ATTR_POLICY_DO, CTRL_ATTR_POLICY_DUMP = 1, 2
GENL_ADMIN_PERM, GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP, GENL_CMD_CAP_HASPOL = \
    1, 2, 4, 8
(NL_POLICY_TYPE_ATTR_TYPE, NL_POLICY_TYPE_ATTR_MIN_VALUE_S,
 NL_POLICY_TYPE_ATTR_MAX_VALUE_S, NL_POLICY_TYPE_ATTR_MIN_VALUE_U,
 NL_POLICY_TYPE_ATTR_MAX_VALUE_U, NL_POLICY_TYPE_ATTR_MIN_LENGTH,
 NL_POLICY_TYPE_ATTR_MAX_LENGTH) = range(1, 8)

# enum netlink_attribute_type
NL_ATTR_TYPES = {'flag': 1, 'u8': 2, 'u16': 3, 'u32': 4, 'u64': 5, 's8': 6,
                 's16': 7, 's32': 8, 's64': 9, 'binary': 10,
                 # YNL "string" is NUL-terminated: NLA_NUL_STRING
                 'string': 12, 'nest': 13}
UMAX = {'u8': 0xff, 'u16': 0xffff, 'u32': 0xffffffff,
        'u64': 0xffffffffffffffff}

errors = []


def check(cond, what):
    print(('  ok   ' if cond else '  FAIL ') + what)
    if not cond:
        errors.append(what)


def attrs(data):
    """Parse netlink attributes into a list of (type, payload)."""
    out, off = [], 0
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from('HH', data, off)
        if alen < 4:
            break
        out.append((atype & 0x3fff, data[off + 4:off + alen]))
        off += (alen + 3) & ~3
    return out


def adict(data):
    return dict(attrs(data))


def u32(b):
    return struct.unpack('I', b[:4])[0]


def uint(b):
    return struct.unpack('Q' if len(b) == 8 else 'I', b)[0]


def sint(b):
    return struct.unpack('q' if len(b) == 8 else 'i', b)[0]


def attr(atype, payload):
    return struct.pack('HH', 4 + len(payload), atype) + payload + \
        b'\0' * ((4 - len(payload) % 4) % 4)


def request(sock, cmd, flags, payload):
    body = struct.pack('BBH', cmd, 1, 0) + payload
    hdr = struct.pack('IHHII', 16 + len(body), GENL_ID_CTRL,
                      NLM_F_REQUEST | flags, 1, 0)
    sock.send(hdr + body)
    msgs = []
    while True:
        data = sock.recv(1 << 20)
        off = 0
        while off < len(data):
            nlen, ntype = struct.unpack_from('IH', data, off)
            body = data[off + 16:off + nlen]
            off += (nlen + 3) & ~3
            if ntype == NLMSG_ERROR:
                err = struct.unpack_from('i', body)[0]
                if err:
                    raise OSError(-err, os.strerror(-err))
                return msgs
            if ntype == NLMSG_DONE:
                return msgs
            msgs.append(body[4:])       # skip the genl header
            if not flags & NLM_F_DUMP:
                return msgs


def main():
    args = sys.argv[1:]
    schema = None
    if '--schema' in args:
        i = args.index('--schema')
        schema = args[i + 1]
        del args[i:i + 2]
    spec_path = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'nltest.yaml')
    with open(spec_path, encoding='utf-8') as f:
        spec = yaml.safe_load(f)
    name = spec['name']

    if schema:
        try:
            import jsonschema
        except ImportError:
            print('python3-jsonschema missing: schema not checked')
        else:
            with open(schema, encoding='utf-8') as f:
                jsonschema.validate(spec, yaml.safe_load(f))
            print(f'spec {spec_path}: valid against {schema}')

    # the spec's numbering: attributes and operations count from 1
    (aset,) = spec['attribute-sets']
    spec_attrs, val = {}, 1
    for a in aset['attributes']:
        val = a.get('value', val)
        spec_attrs[a['name']] = dict(a, value=val)
        val += 1
    spec_ops, val = {}, 1
    for op in spec['operations']['list']:
        val = op.get('value', val)
        spec_ops[op['name']] = dict(op, value=val)
        val += 1

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    (fam,) = request(sock, CTRL_CMD_GETFAMILY, 0,
                     attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0'))
    fam = adict(fam)
    print(f'family {name}: id {struct.unpack("H", fam[CTRL_ATTR_FAMILY_ID][:2])[0]}')
    check(u32(fam[CTRL_ATTR_VERSION]) == spec.get('version', 1), 'version')
    check(u32(fam[CTRL_ATTR_MAXATTR]) == max(a['value'] for a in spec_attrs.values()),
          'maxattr = highest attribute value')

    kops = {}
    for _, op in attrs(fam.get(CTRL_ATTR_OPS, b'')):
        op = adict(op)
        kops[u32(op[CTRL_ATTR_OP_ID])] = u32(op[CTRL_ATTR_OP_FLAGS])
    expect_ops = {}
    for op in spec_ops.values():
        if 'do' not in op and 'dump' not in op:
            continue                    # notifications are not kernel ops
        flags = GENL_CMD_CAP_HASPOL
        flags |= GENL_CMD_CAP_DO if 'do' in op else 0
        flags |= GENL_CMD_CAP_DUMP if 'dump' in op else 0
        flags |= GENL_ADMIN_PERM if 'admin-perm' in op.get('flags', []) else 0
        expect_ops[op['value']] = flags
    check(kops == expect_ops, f'operations and their flags: kernel {kops}, spec {expect_ops}')

    kgroups = set()
    for _, g in attrs(fam.get(CTRL_ATTR_MCAST_GROUPS, b'')):
        kgroups.add(adict(g)[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b'\0').decode())
    sgroups = {g['name'] for g in spec.get('mcast-groups', {}).get('list', [])}
    check(kgroups == sgroups, f'multicast groups: kernel {kgroups}, spec {sgroups}')

    # per-operation policies
    policies, op_policy = {}, {}
    for msg in request(sock, CTRL_CMD_GETPOLICY, NLM_F_DUMP,
                       attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0')):
        m = adict(msg)
        if CTRL_ATTR_OP_POLICY in m:
            for op_id, p in attrs(m[CTRL_ATTR_OP_POLICY]):
                op_policy[op_id] = {k: u32(v) for k, v in attrs(p)}
        if CTRL_ATTR_POLICY in m:
            for idx, p in attrs(m[CTRL_ATTR_POLICY]):
                for atype, desc in attrs(p):
                    policies.setdefault(idx, {})[atype] = adict(desc)

    by_value = {a['value']: a for a in spec_attrs.values()}
    for op in spec_ops.values():
        for mode, key in (('do', CTRL_ATTR_POLICY_DO),
                          ('dump', CTRL_ATTR_POLICY_DUMP)):
            if mode not in op:
                continue
            want = op[mode].get('request', {}).get('attributes', [])
            idx = op_policy.get(op['value'], {}).get(key)
            got = policies.get(idx, {}) if idx is not None else {}
            check(sorted(by_value[t]['name'] for t in got if t in by_value) == sorted(want)
                  and all(t in by_value for t in got),
                  f'{op["name"]} {mode}: accepted attributes {sorted(got)} = request {want}')
            for atype, desc in sorted(got.items()):
                if atype not in by_value:
                    continue
                a = by_value[atype]
                checks = a.get('checks', {})
                ktype = u32(desc[NL_POLICY_TYPE_ATTR_TYPE])
                check(ktype == NL_ATTR_TYPES[a['type']],
                      f'  {a["name"]}: type {a["type"]} (kernel type {ktype})')
                if a['type'] in UMAX:
                    kmin = uint(desc.get(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, b'\0' * 4))
                    kmax = uint(desc.get(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, b'\0' * 4))
                    check((kmin, kmax) == (checks.get('min', 0),
                                           checks.get('max', UMAX[a['type']])),
                          f'  {a["name"]}: range {kmin}..{kmax}')
                if a['type'] in ('string', 'binary'):
                    kmaxlen = desc.get(NL_POLICY_TYPE_ATTR_MAX_LENGTH)
                    kmaxlen = u32(kmaxlen) if kmaxlen else None
                    kminlen = desc.get(NL_POLICY_TYPE_ATTR_MIN_LENGTH)
                    kminlen = u32(kminlen) if kminlen else None
                    check(kmaxlen == checks.get('max-len') and
                          kminlen == checks.get('min-len'),
                          f'  {a["name"]}: max-len {kmaxlen}, min-len {kminlen}')

    if errors:
        print(f'FAIL: {len(errors)} difference(s) between the spec and the kernel')
        return 1
    print('OK: the spec matches the kernel family')
    return 0


if __name__ == '__main__':
    sys.exit(main())
