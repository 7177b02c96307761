# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn tag plans into TagResources/UntagResources batches and apply them (pure: the call is injected).

TagResources sets one tag map on at most 20 ARNs, so resources share a call when they take the
same map in the same region. Setting a tag to the value it already has changes nothing, so a
resource may be sent more of its target tags than it needs; the grouping with the fewest calls of
these is used: by the tags to add; by the whole target (every policy key's value after the run);
one (key, value) at a time; or by target, with the resources left in partial batches smaller than
a threshold (each threshold tried) sent one (key, value) at a time.

A call answers per ARN (FailedResourcesMap): failures that may pass (throttling, 5xx) are retried
with backoff for those ARNs only; the others are reported and the rest of the batch stands. aws:
keys are never sent.
"""

from __future__ import annotations

import random
import time

MAX_ARNS = 20
_RETRYABLE_CODES = {"ThrottlingException", "Throttling", "InternalServiceException", "ServiceUnavailable"}


def _chunks(items, size):
    return [items[start : start + size] for start in range(0, len(items), size)]


def _owned(tags):
    return {k: v for k, v in tags.items() if not k.lower().startswith("aws:")}


def _target(result):
    """Every policy key's value after the run (what the resource will carry anyway), plus what it needs."""
    keys = {action["key"] for action in result.get("actions", ())}
    return _owned({**{k: v for k, v in result.get("after", {}).items() if k in keys}, **result["add"]})


def _tag_groups(plans, strategy):
    groups = {}
    for result in plans:
        add = _owned(result["add"])
        if not add:
            continue
        if strategy == "per_key":
            maps = [{key: value} for key, value in add.items()]
        else:
            maps = [_target(result) if strategy == "target" else add]
        for tags in maps:
            groups.setdefault((result["region"] or "", tuple(sorted(tags.items()))), []).append(result["arn"])
    return groups


def _hybrid(plans, size, smallest):
    """Batches of equal targets; remainders smaller than `smallest` share (key, value) batches instead."""
    groups, rest = {}, set()
    for key, arns in _tag_groups(plans, "target").items():
        remainder = len(arns) % size
        keep = len(arns) - remainder if remainder < smallest else len(arns)
        if keep:
            groups[key] = arns[:keep]
        rest.update(arns[keep:])
    for key, arns in _tag_groups([p for p in plans if p["arn"] in rest], "per_key").items():
        groups.setdefault(key, []).extend(arns)
    return groups


def _calls(groups, size):
    return sum(-(-len(arns) // size) for arns in groups.values())


def batches(plans, size=MAX_ARNS):
    """[{operation: tag|untag, region, tags or keys, arns}] for every plan with a change, at most `size` ARNs each."""
    if not 1 <= size <= MAX_ARNS:
        raise ValueError(f"batch size must be between 1 and {MAX_ARNS}, got {size}")
    candidates = [_tag_groups(plans, strategy) for strategy in ("add", "target", "per_key")]
    candidates.extend(_hybrid(plans, size, smallest) for smallest in range(2, size + 1))
    tag_groups = min(candidates, key=lambda groups: _calls(groups, size))
    untag_groups = {}
    for result in plans:
        remove = [k for k in result["remove"] if not k.lower().startswith("aws:")]
        if remove:
            untag_groups.setdefault((result["region"], tuple(remove)), []).append(result["arn"])
    out = []
    for (region, tags), arns in sorted(tag_groups.items()):
        out.extend({"operation": "tag", "region": region, "tags": dict(tags), "arns": c} for c in _chunks(arns, size))
    for (region, keys), arns in sorted(untag_groups.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        out.extend({"operation": "untag", "region": region, "keys": list(keys), "arns": c} for c in _chunks(arns, size))
    return out


def _retryable(failure):
    return failure.get("ErrorCode") in _RETRYABLE_CODES or int(failure.get("StatusCode") or 0) >= 500


def apply_batches(planned, call, retries=3, base_delay=0.5, sleep=time.sleep, rng=random.random):
    """Run every batch with call(batch, arns) -> {arn: {StatusCode, ErrorCode, ErrorMessage}} of failed ARNs.

    Untag batches come after the tag batches and skip the ARNs whose tagging failed.
    Returns (done ARNs, {arn: reason}) -- an ARN is done when all its batches succeeded.
    """
    failed = {}
    touched = set()
    for batch in planned:
        touched.update(batch["arns"])
        # a rename removes the old key only once the new one is set: never lose a tag to a failure
        pending = [arn for arn in batch["arns"] if batch["operation"] == "tag" or arn not in failed]
        if not pending:
            continue
        for attempt in range(retries + 1):
            answer = call(batch, pending) or {}
            retry = [arn for arn in pending if arn in answer and _retryable(answer[arn])]
            for arn in pending:
                if arn in answer and (arn not in retry or attempt == retries):
                    failure = answer[arn]
                    failed[arn] = f"{failure.get('ErrorCode', 'Error')}: {failure.get('ErrorMessage', '')}".strip()
            pending = retry
            if not pending or attempt == retries:
                break
            sleep(rng() * min(20.0, base_delay * 2**attempt))
    return sorted(touched - set(failed)), failed
