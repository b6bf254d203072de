#!/usr/bin/env python3
"""Holds the packets of delayed links, then accepts them: tokenbench's stand-in for netem.

Started by topologies/network/nft.ts, one per NetworkFaults; stdlib only. netem is absent on the
machines tokenbench runs on; NFQUEUE is there, but only as the xtables target (no CONFIG_NFT_QUEUE),
which the nft tool cannot write. So this process also writes the `delay` chain of the run's table,
`iif "lo" ip saddr S ip daddr D queue num Q bypass` per link, over nf_tables netlink.

stdin, one command a line:
  set <queue> <delayMs> <jitterMs>               binds the queue on first use -> ok <queue> | error <queue> <why>
  chain <table> [<from>,<to>,<queue> ...]        replaces the delay chain's rules -> ok chain | error chain <why>
stdout also says `ready` once, first.

Each packet is held delayMs plus a uniform random [0, jitterMs], but never released before a
packet queued earlier on the same queue: jitter spreads latency without reordering a TCP stream,
which a real link would not do either (and which would make TCP retransmit, hiding the delay).

stdin's end (the parent exited, or was killed) releases every held packet and exits, so no
orphan outlives its run; the argv tag tokenbench-owner=<pid> lets `tokenbench doctor` find one
that somehow did. `bypass` lets packets through while no holder listens, rather than dropping them.
"""
import errno
import heapq
import os
import random
import selectors
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NF_ACCEPT = 1
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 0x10
NFNL_MSG_BATCH_END = 0x11
NFT_MSG_NEWCHAIN = 3
NFT_MSG_NEWRULE = 6
NFT_MSG_DELRULE = 8
NFT_MSG_GETGEN = 16
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
NLA_F_NESTED = 0x8000
NFPROTO_INET = 1
NFPROTO_IPV4 = 2
NF_INET_LOCAL_IN = 1
NFT_META_IIF = 4
NFT_META_NFPROTO = 15
NFT_PAYLOAD_NETWORK_HEADER = 1
NFT_REG_1 = 1
NFQ_FLAG_BYPASS = 1
# After the input chain (priority 0) that drops and loses: a dropped packet is never held.
DELAY_CHAIN = b"delay"
DELAY_PRIORITY = 10
# A 50 ms delay at tens of thousands of packets a second keeps thousands in flight; the kernel's
# default queue length (1024) would drop the rest. FAIL_OPEN accepts, not drops, beyond this.
QUEUE_MAXLEN = 65536


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def nested(kind, payload):
    return attr(kind | NLA_F_NESTED, payload)


def expr(name, *attrs):
    return nested(1, attr(1, name + b"\0") + nested(2, b"".join(attrs)))  # NFTA_LIST_ELEM: NAME, DATA


def be32(value):
    return struct.pack(">I", value)


def compare(value):
    # NFTA_CMP_SREG, NFTA_CMP_OP (eq), NFTA_CMP_DATA { NFTA_DATA_VALUE }
    return expr(b"cmp", attr(1, be32(NFT_REG_1)), attr(2, be32(0)), nested(3, attr(1, value)))


def delay_rule(table, source, destination, queue):
    """iif "lo" ip saddr S ip daddr D queue num Q bypass, built by hand: Debian's kernels lack the
    native nft queue expression (CONFIG_NFT_QUEUE) and the nft tool cannot write the xtables
    NFQUEUE target that nft_compat offers instead."""
    meta = lambda key: expr(b"meta", attr(1, be32(NFT_REG_1)), attr(2, be32(key)))  # DREG, KEY
    payload = lambda offset: expr(
        b"payload", attr(1, be32(NFT_REG_1)), attr(2, be32(NFT_PAYLOAD_NETWORK_HEADER)), attr(3, be32(offset)), attr(4, be32(4))
    )
    target = expr(
        b"target",
        attr(1, b"NFQUEUE\0"),
        attr(2, be32(3)),  # revision 3: xt_NFQ_info_v3 { queuenum, queues_total, flags }, padded to 8
        attr(3, struct.pack("=HHHxx", queue, 1, NFQ_FLAG_BYPASS)),
    )
    expressions = b"".join(
        [
            meta(NFT_META_IIF),
            compare(struct.pack("=I", socket.if_nametoindex("lo"))),
            meta(NFT_META_NFPROTO),
            compare(bytes([NFPROTO_IPV4])),
            payload(12),
            compare(socket.inet_aton(source)),
            payload(16),
            compare(socket.inet_aton(destination)),
            target,
        ]
    )
    return attr(1, table + b"\0") + attr(2, DELAY_CHAIN + b"\0") + nested(4, expressions)


class Queues:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        # A lost netlink message is a packet the kernel keeps queued until we exit: make room.
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.sock.bind((0, 0))
        self.seq = 0
        self.settings = {}  # queue -> (delay s, jitter s)
        self.pending_acks = {}  # netlink seq -> queue
        self.held = []  # heap of (release time, order, queue, packet id)
        self.last_release = {}  # queue -> release time of its latest packet
        self.order = 0
        self.batch = None

    def message(self, subsys_type, flags, family, res_id, payload):
        self.seq += 1
        body = struct.pack("=BB", family, 0) + struct.pack(">H", res_id) + payload
        return struct.pack("=IHHII", 16 + len(body), subsys_type, flags, self.seq, 0) + body

    def send(self, msg_type, flags, queue, payload):
        self.sock.send(self.message((NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, socket.AF_UNSPEC, queue, payload))
        return self.seq

    def write_delay_chain(self, table, rules):
        """Replaces the delay chain's rules in one nf_tables batch: atomic, like nft -f."""
        table = table.encode()
        nft = lambda msg_type, flags, payload: self.message(
            (NFNL_SUBSYS_NFTABLES << 8) | msg_type, NLM_F_REQUEST | NLM_F_ACK | flags, NFPROTO_INET, 0, payload
        )
        hook = nested(4, attr(1, be32(NF_INET_LOCAL_IN)) + attr(2, be32(DELAY_PRIORITY & 0xFFFFFFFF)))
        chain = attr(1, table + b"\0") + attr(3, DELAY_CHAIN + b"\0") + hook + attr(5, be32(NF_ACCEPT)) + attr(7, b"filter\0")
        batch = [self.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, socket.AF_UNSPEC, NFNL_SUBSYS_NFTABLES, b"")]
        batch.append(nft(NFT_MSG_NEWCHAIN, NLM_F_CREATE, chain))
        batch.append(nft(NFT_MSG_DELRULE, 0, attr(1, table + b"\0") + attr(2, DELAY_CHAIN + b"\0")))
        for source, destination, queue in rules:
            queue = int(queue)
            batch.append(nft(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, delay_rule(table, source, destination, queue)))
        batch.append(self.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, socket.AF_UNSPEC, NFNL_SUBSYS_NFTABLES, b""))
        first = self.seq - len(batch) + 2
        self.sock.send(b"".join(batch))
        # On failure the kernel answers only the failing messages: a request after the batch
        # marks the end of its answers.
        barrier = self.message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST | NLM_F_ACK, socket.AF_UNSPEC, 0, b"")
        self.sock.send(barrier)
        self.batch = {"first": first, "last": self.seq - 1, "barrier": self.seq, "error": None}

    def set(self, queue, delay_ms, jitter_ms):
        first = queue not in self.settings
        self.settings[queue] = (delay_ms / 1000.0, jitter_ms / 1000.0)
        if not first:
            reply("ok %d" % queue)
            return
        payload = (
            attr(NFQA_CFG_CMD, struct.pack(">BBH", NFQNL_CFG_CMD_BIND, 0, 0))
            + attr(NFQA_CFG_PARAMS, struct.pack(">IB", 0, NFQNL_COPY_META))
            + attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack(">I", QUEUE_MAXLEN))
            + attr(NFQA_CFG_MASK, struct.pack(">I", NFQA_CFG_F_FAIL_OPEN))
            + attr(NFQA_CFG_FLAGS, struct.pack(">I", NFQA_CFG_F_FAIL_OPEN))
        )
        self.pending_acks[self.send(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, queue, payload)] = queue

    def accept(self, queue, packet_id):
        self.send(NFQNL_MSG_VERDICT, NLM_F_REQUEST, queue, attr(NFQA_VERDICT_HDR, struct.pack(">II", NF_ACCEPT, packet_id)))

    def receive(self):
        try:
            data = self.sock.recv(1 << 20)
        except OSError as error:
            # Messages were lost to a full buffer: their packets stay queued in the kernel until we
            # exit (then `bypass` lets the rest through). Going on beats dying.
            if error.errno == errno.ENOBUFS:
                return
            raise
        now = time.monotonic()
        offset = 0
        while offset + 16 <= len(data):
            length, msg_type, _flags, seq, _pid = struct.unpack_from("=IHHII", data, offset)
            if length < 16:
                break
            if msg_type == NLMSG_ERROR:
                (error,) = struct.unpack_from("=i", data, offset + 16)
                queue = self.pending_acks.pop(seq, None)
                if self.batch and self.batch["first"] <= seq <= self.batch["last"] and error != 0:
                    self.batch["error"] = self.batch["error"] or os.strerror(-error)
                elif self.batch and seq == self.batch["barrier"]:
                    failure, self.batch = self.batch["error"], None
                    reply("error chain %s" % failure if failure else "ok chain")
                elif queue is not None:
                    if error == 0:
                        reply("ok %d" % queue)
                    else:
                        del self.settings[queue]
                        reply("error %d %s" % (queue, os.strerror(-error)))
            elif msg_type == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                (queue,) = struct.unpack_from(">H", data, offset + 18)
                packet_id = self.packet_id(data, offset + 20, offset + length)
                if packet_id is not None:
                    self.hold(now, queue, packet_id)
            offset += (length + 3) & ~3

    @staticmethod
    def packet_id(data, start, end):
        while start + 4 <= end:
            length, kind = struct.unpack_from("=HH", data, start)
            if length < 4:
                return None
            if kind & 0x3FFF == NFQA_PACKET_HDR:
                return struct.unpack_from(">I", data, start + 4)[0]
            start += (length + 3) & ~3
        return None

    def hold(self, now, queue, packet_id):
        delay, jitter = self.settings.get(queue, (0.0, 0.0))
        release = max(now + delay + random.uniform(0.0, jitter), self.last_release.get(queue, 0.0))
        self.last_release[queue] = release
        self.order += 1
        heapq.heappush(self.held, (release, self.order, queue, packet_id))

    def release_due(self, until):
        while self.held and self.held[0][0] <= until:
            _, _, queue, packet_id = heapq.heappop(self.held)
            self.accept(queue, packet_id)


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    queues = Queues()
    selector = selectors.DefaultSelector()
    selector.register(queues.sock, selectors.EVENT_READ, "netlink")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    reply("ready")
    commands = b""
    while True:
        timeout = max(0.0, queues.held[0][0] - time.monotonic()) if queues.held else None
        for key, _ in selector.select(timeout):
            if key.data == "netlink":
                queues.receive()
                continue
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                queues.release_due(float("inf"))
                return
            commands += chunk
            while b"\n" in commands:
                line, commands = commands.split(b"\n", 1)
                words = line.decode().split()
                if len(words) == 4 and words[0] == "set":
                    queues.set(int(words[1]), float(words[2]), float(words[3]))
                elif len(words) >= 2 and words[0] == "chain":
                    queues.write_delay_chain(words[1], [rule.split(",") for rule in words[2:]])
                elif words:
                    reply("error 0 unknown command: %s" % line.decode())
        queues.release_due(time.monotonic())


if __name__ == "__main__":
    main()
