"""Faust's commit bookkeeping, read for the debug endpoint and the commit-stall alarm."""

from __future__ import annotations


def ack_bookkeeping(consumer) -> dict[str, dict]:
    """Per partition: the committed offset Faust holds, the last offset read, the lowest
    acked offsets not yet committed, the gaps and the unacked messages' offsets. A hole at
    the committed offset (lowest acked more than one past it) is what stops commits."""
    unacked: dict = {}
    for m in list(consumer._unacked_messages):
        unacked.setdefault(m.tp, []).append(m.offset)
    tps = {*consumer._committed_offset, *consumer._read_offset, *consumer._acked, *unacked}
    out = {}
    for tp in tps:
        acked = sorted(consumer._acked.get(tp, ()))
        out[f"{tp.topic}:{tp.partition}"] = {
            "committed": consumer._committed_offset.get(tp),
            "read": consumer._read_offset.get(tp),
            "acked_head": acked[:5], "acked": len(acked),
            "gaps": sorted((i.begin, i.end) for i in consumer._gap.get(tp, ()))[:5],
            "unacked_head": sorted(unacked.get(tp, ()))[:5], "unacked": len(unacked.get(tp, ())),
        }
    return out
