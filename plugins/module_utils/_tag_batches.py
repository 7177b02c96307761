# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn tag plans into TagResources/UntagResources batches and apply them (pure: the call is injected).

TagResources sets one tag map on at most 20 ARNs and only adds: a resource may be sent any part
of its target (every policy key's value after the run) as long as what it must get is covered,
since setting a tag to the value it already has, or will have, changes nothing. So each resource
has options (a split of the pairs it needs into maps, each map maybe widened by target pairs it
already has), and a region's calls are the sum over maps of ceil(resources / 20). The packing
starts from whole-target calls with the last, partial call of each target split by a key scheme
(each scheme and remainder size tried), keeps the starts with fewest calls, and improves each by
emptying partial last calls into free places of other calls (a resource moves to another option
only where every new map has room). A resource never gets a value it will not end with.

UntagResources (renames, remove_tags) groups by the keys each resource loses, or sends every key
removed in the region to each resource that keeps none of them, whichever needs fewer calls. A
rename removes the old key only once the new one is set, so a failure never loses a value; but a
resource that would carry more than 50 tags in between (a rename at the limit) cannot take the new
key first. For those "crowded" resources the fewest keys needed are removed first (plain removals
before renamed keys), their additions are sent in one call, and if that call fails the removed
keys are put back with their values (the failure says which, and what to set by hand if even
that fails).

A call answers per ARN (FailedResourcesMap): failures that may pass (throttling, 5xx) are retried
with backoff for those ARNs only; the others are reported and the rest of the batch stands. A call
refused whole for a reason one ARN can cause (a 4xx that is not about permissions, credentials or
throttling) is split -- the ARNs its message names, else in halves -- until each bad ARN is refused
alone with AWS's error and the others are tagged. aws: keys are never sent.
"""

from __future__ import annotations

import itertools
import random
import time

from ansible_collections.keel.platform.plugins.module_utils._aws import (
    ACCESS_DENIED_CODES,
    THROTTLING_CODES,
    error_code,
)
from ansible_collections.keel.platform.plugins.module_utils._cost_plan import MAX_TAGS

MAX_ARNS = 20
MAX_UNTAG_KEYS = 50  # TagKeys of one UntagResources call
_IMPROVED = 16  # starting packings improved (the ones with fewest calls)
_MAX_ENUMERATED = 4  # target pairs up to which every way of splitting a resource's additions is tried
_RETRYABLE_CODES = {"ThrottlingException", "Throttling", "InternalServiceException", "ServiceUnavailable"}
# Whole-call refusals no single ARN causes: splitting the batch would only repeat them.
_CALL_WIDE_CODES = (
    ACCESS_DENIED_CODES
    | THROTTLING_CODES
    | {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


def _chunks(items, size):
    return [items[start : start + size] for start in range(0, len(items), size)]


def _owned(tags):
    return {k: v for k, v in tags.items() if not k.lower().startswith("aws:")}


def _target(result):
    """Every policy key's value after the run (what the resource will carry anyway), plus what it needs."""
    keys = {action["key"] for action in result.get("actions", ())}
    return _owned({**{k: v for k, v in result.get("after", {}).items() if k in keys}, **result["add"]})


def _partitions(items):
    """Every set partition of a list (Bell(n) of them: callers keep n small)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _partitions(rest):
        yield [[first], *partition]
        for index in range(len(partition)):
            yield [*partition[:index], [first, *partition[index]], *partition[index + 1 :]]


def _options(result):
    """The ways to cover a resource's additions: each a tuple of tag maps (sorted item tuples) it may be sent.

    A partition of the pairs to add, each part optionally widened by the target pairs the resource
    already has (re-sending them changes nothing). Resources with many pairs only get the whole target,
    the additions, and one pair at a time.
    """
    add = sorted(_owned(result["add"]).items())
    target = _target(result)
    kept = sorted((k, v) for k, v in target.items() if (k, v) not in add)
    whole, single = (tuple(sorted(target.items())),), tuple((pair,) for pair in add)
    if len(add) + len(kept) > _MAX_ENUMERATED:
        return sorted({whole, (tuple(add),), single})
    widenings = [[pair for bit, pair in enumerate(kept) if mask >> bit & 1] for mask in range(2 ** len(kept))]
    found = set()
    for partition in _partitions(add):
        for choice in itertools.product(widenings, repeat=len(partition)):
            maps = {tuple(sorted(part + extra)) for part, extra in zip(partition, choice)}
            found.add(tuple(sorted(maps)))
    return sorted(found)


class _Packing:
    """One option per resource of a region, with how many resources each map is sent to."""

    def __init__(self, options, chosen, size):
        self.options, self.chosen, self.size = options, dict(chosen), size
        self.count, self.users = {}, {}
        for arn, option in self.chosen.items():
            self._take(arn, option, 1)

    def _take(self, arn, option, step):
        for tags in option:
            self.count[tags] = self.count.get(tags, 0) + step
            users = self.users.setdefault(tags, set())
            if step > 0:
                users.add(arn)
            else:
                users.discard(arn)

    def move(self, arn, option):
        self._take(arn, self.chosen[arn], -1)
        self.chosen[arn] = option
        self._take(arn, option, 1)

    def calls(self):
        return sum(-(-n // self.size) for n in self.count.values())

    def free(self, tags):
        """Places left in the last call of a map (0 when it would need a new call)."""
        return -self.count.get(tags, 0) % self.size

    def empty_last_call(self, tags):
        """Move the resources of the last, partial call of `tags` into free places of other maps' calls.

        Each moved resource takes another of its options whose new maps all have a free place; when
        every one of them finds such an option, one call fewer is made.
        """
        moved = []
        for arn in sorted(self.users.get(tags, ())):
            if self.count[tags] % self.size == 0:
                break
            current = self.chosen[arn]
            for option in self.options[arn]:
                if tags not in option and all(self.free(m) > 0 for m in set(option) - set(current)):
                    moved.append((arn, current))
                    self.move(arn, option)
                    break
        if self.count[tags] % self.size == 0:
            return bool(moved)
        for arn, option in reversed(moved):
            self.move(arn, option)
        return False

    def improve(self):
        """Empty last calls while some can be emptied, smallest first."""
        while True:
            partial = sorted((n % self.size, tags) for tags, n in self.count.items() if n % self.size)
            if not [tags for _remainder, tags in partial if self.empty_last_call(tags)]:
                return self


def _split(result, scheme):
    """The option sending a resource's additions in the parts of a scheme (a partition of the keys)."""
    add = _owned(result["add"])
    parts = [tuple(sorted((k, v) for k, v in add.items() if k in keys)) for keys in scheme]
    rest = tuple(sorted((k, v) for k, v in add.items() if not any(k in keys for keys in scheme)))
    return tuple(sorted({part for part in [*parts, rest] if part}))


def _schemes(plans):
    """Ways to split the policy keys: one pair at a time, and every split in two (few keys only)."""
    keys = sorted({key for result in plans for key in _owned(result["add"])})
    yield [[key] for key in keys]
    if len(keys) <= _MAX_ENUMERATED:
        for partition in _partitions(keys):
            if len(partition) == 2:
                yield partition


def _starts(plans, size):
    """Starting packings: the whole target for all; the additions for all; and target calls whose last,
    partial call is split by a scheme when it holds at most `smallest` resources (each scheme and size)."""
    by_target = {result["arn"]: (tuple(sorted(_target(result).items())),) for result in plans}
    yield by_target
    yield {result["arn"]: (tuple(sorted(_owned(result["add"]).items())),) for result in plans}
    groups = {}
    for result in plans:
        groups.setdefault(by_target[result["arn"]], []).append(result)
    for scheme in _schemes(plans):
        for smallest in range(1, size):
            chosen = dict(by_target)
            for members in groups.values():
                remainder = len(members) % size
                if remainder <= smallest:
                    chosen.update((r["arn"], _split(r, scheme)) for r in members[len(members) - remainder :])
            yield chosen


def _region_groups(plans, size):
    """{map: [arns]} of one region's plans: the starts with fewest calls, improved; the best of them."""
    options = {result["arn"]: _options(result) for result in plans}
    starts = sorted(
        (packing.calls(), index, packing)
        for index, packing in enumerate(_Packing(options, start, size) for start in _starts(plans, size))
    )
    best = min((packing.improve() for _start_calls, _index, packing in starts[:_IMPROVED]), key=_Packing.calls)
    groups = {}
    for arn, option in sorted(best.chosen.items()):
        for tags in option:
            groups.setdefault(tags, []).append(arn)
    return groups


def _untag_groups(plans, size):
    """{(region, keys): [arns]}: by the keys each resource loses, or, when fewer calls, every key removed in
    the region sent to every resource that ends up carrying none of them (removing a missing key is a no-op)."""
    removals = {}
    for result in plans:
        remove = tuple(k for k in result["remove"] if not k.lower().startswith("aws:"))
        if remove:
            removals.setdefault(result["region"], []).append((result, remove))
    groups = {}
    for region, members in removals.items():
        own = {}
        for result, remove in members:
            own.setdefault((region, remove), []).append(result["arn"])
        every = tuple(sorted({key for _result, remove in members for key in remove}))
        merged = {}
        for result, remove in members:
            kept = "after" in result and not set(every) & set(result["after"])
            merged.setdefault((region, every if kept else remove), []).append(result["arn"])
        fits = len(every) <= MAX_UNTAG_KEYS
        groups.update(merged if fits and _calls(merged, size) < _calls(own, size) else own)
    return groups


def _calls(groups, size):
    return sum(-(-len(arns) // size) for arns in groups.values())


def room_keys(result):
    """The keys to remove before tagging so the resource never carries more than MAX_TAGS tags ([] if none).

    Plain removals go first (nothing to keep), then renamed keys (their value is kept to put back).
    """
    before = _owned(result.get("before") or {})
    excess = len(set(before) | set(_owned(result["add"]))) - MAX_TAGS
    if excess <= 0:
        return []
    renamed = {action.get("from") for action in result.get("actions", ()) if action.get("action") == "rename"}
    removable = sorted((k for k in result["remove"] if k in before), key=lambda key: (key in renamed, key))
    return removable[:excess]


def batches(plans, size=MAX_ARNS):
    """[{operation: tag|untag, region, tags or keys, arns}] for every plan with a change, at most `size` ARNs each.

    Untag batches that make room come first (`room: true`, with `restore`: {arn: {key: value}} to put back
    if the tagging then fails), then the tag batches, then the other untag batches.
    """
    if not 1 <= size <= MAX_ARNS:
        raise ValueError(f"batch size must be between 1 and {MAX_ARNS}, got {size}")
    room = {result["arn"]: keys for result in plans if _owned(result["add"]) for keys in [room_keys(result)] if keys}
    regions = {}
    for result in plans:
        if _owned(result["add"]) and result["arn"] not in room:
            regions.setdefault(result["region"] or "", []).append(result)
    tag_groups = {}
    for region, members in regions.items():
        for tags, arns in _region_groups(members, size).items():
            tag_groups[(region, tags)] = arns
    room_groups = {}
    for result in plans:
        if result["arn"] in room:  # all additions in one call: it succeeds or fails as a whole
            region = result["region"] or ""
            tag_groups.setdefault((region, tuple(sorted(_owned(result["add"]).items()))), []).append(result["arn"])
            room_groups.setdefault((region, tuple(room[result["arn"]])), []).append(result)
    out = []
    for (region, keys), members in sorted(room_groups.items()):
        for chunk in _chunks(members, size):
            out.append(
                {
                    "operation": "untag",
                    "region": region,
                    "keys": list(keys),
                    "arns": [result["arn"] for result in chunk],
                    "room": True,
                    "restore": {result["arn"]: {key: result["before"][key] for key in keys} for result in chunk},
                }
            )
    for (region, tags), arns in sorted(tag_groups.items()):
        out.extend({"operation": "tag", "region": region, "tags": dict(tags), "arns": c} for c in _chunks(arns, size))
    rest = [
        dict(result, remove=[k for k in result["remove"] if k not in room.get(result["arn"], ())]) for result in plans
    ]
    for (region, keys), arns in sorted(
        _untag_groups(rest, size).items(), key=lambda item: (item[0][0] or "", item[0][1])
    ):
        out.extend({"operation": "untag", "region": region, "keys": list(keys), "arns": c} for c in _chunks(arns, size))
    return out


def _retryable(failure):
    return failure.get("ErrorCode") in _RETRYABLE_CODES or int(failure.get("StatusCode") or 0) >= 500


class Refused(Exception):
    """A whole Tag/UntagResources call refused: `failure` (a FailedResourcesMap entry) is each of its ARNs';
    `splittable` when one of them may be the cause (see splittable())."""

    def __init__(self, failure, splittable=False):
        super().__init__(failure.get("ErrorMessage", ""))
        self.failure, self.splittable = failure, splittable


def splittable(error):
    """Whether one ARN of a call may have made AWS refuse it whole (a 4xx not about access, credentials or
    throttling), so that the call is worth splitting."""
    response = getattr(error, "response", None) or {}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 400 <= status < 500 and error_code(error) not in _CALL_WIDE_CODES


def isolate(send, arns):
    """send(arns) -> {arn: failure}, raising Refused for a whole-call refusal.

    A splittable refusal of several ARNs is sent again in two parts -- the ARNs its message names and
    the rest, else halves -- until every bad ARN is refused alone with AWS's error and every other
    ARN got its answer.
    """
    try:
        return send(arns)
    except Refused as refusal:
        if len(arns) == 1 or not refusal.splittable:
            return dict.fromkeys(arns, refusal.failure)
        named = [arn for arn in arns if arn in refusal.failure.get("ErrorMessage", "")]
        if not 0 < len(named) < len(arns):
            named = arns[: len(arns) // 2]
        failed = isolate(send, named)
        failed.update(isolate(send, [arn for arn in arns if arn not in named]))
        return failed


def _reason(failure):
    return f"{failure.get('ErrorCode', 'Error')}: {failure.get('ErrorMessage', '')}".strip()


def _send(batch, arns, call, retries, base_delay, sleep, rng):
    """{arn: reason} of the ARNs of one batch that failed after retrying the retryable failures."""
    failed = {}
    pending = list(arns)
    for attempt in range(retries + 1):
        answer = call(batch, pending) or {}
        retry = [arn for arn in pending if arn in answer and _retryable(answer[arn])]
        for arn in pending:
            if arn in answer and (arn not in retry or attempt == retries):
                failed[arn] = _reason(answer[arn])
        pending = retry
        if not pending or attempt == retries:
            break
        sleep(rng() * min(20.0, base_delay * 2**attempt))
    return failed


def _put_back(restore, failed, call, send):
    """Put back the keys removed to make room on the resources whose tagging then failed; says so in `failed`."""
    groups = {}
    for (region, arn), values in sorted(restore.items()):
        if arn in failed:
            groups.setdefault((region, tuple(sorted(values.items()))), []).append(arn)
    for (region, values), arns in groups.items():
        batch = {"operation": "tag", "region": region, "tags": dict(values), "arns": arns}
        lost = send(batch, arns, call)
        shown = ", ".join(f"{key}={value}" for key, value in values)
        for arn in arns:
            if arn in lost:
                failed[arn] += (
                    f"; {shown} had been removed first to make room (at most {MAX_TAGS} tags) and putting it back "
                    f"failed ({lost[arn]}): set it back by hand"
                )
            else:
                failed[arn] += f"; {shown}, removed first to make room (at most {MAX_TAGS} tags), was put back"


def apply_batches(planned, call, retries=3, base_delay=0.5, sleep=time.sleep, rng=random.random):
    """Run every batch with call(batch, arns) -> {arn: {StatusCode, ErrorCode, ErrorMessage}} of failed ARNs.

    Room-making untag batches come first; a resource they failed for is not tagged. Untag batches after the
    tag batches skip the ARNs whose tagging failed (a rename removes the old key only once the new one is set).
    Keys removed to make room are put back where the tagging failed.
    Returns (done ARNs, {arn: reason}) -- an ARN is done when all its batches succeeded.
    """

    def send(batch, arns, call):
        return _send(batch, arns, call, retries, base_delay, sleep, rng)

    failed, blocked, restore = {}, set(), {}
    touched = set()
    for batch in planned:
        touched.update(batch["arns"])
        if batch["operation"] == "tag":
            pending = [arn for arn in batch["arns"] if arn not in blocked]
        else:
            if not batch.get("room") and restore:
                _put_back(restore, failed, call, send)
                restore = {}
            pending = [arn for arn in batch["arns"] if arn not in failed]
        if not pending:
            continue
        lost = send(batch, pending, call)
        if batch.get("room"):
            blocked.update(lost)
            lost = {
                arn: f"{reason} (removing {', '.join(batch['keys'])} to make room for the new tags; nothing was "
                "changed)"
                for arn, reason in lost.items()
            }
            restore.update(((batch["region"], arn), batch["restore"][arn]) for arn in pending if arn not in lost)
        for arn, reason in lost.items():
            failed.setdefault(arn, reason)
    if restore:
        _put_back(restore, failed, call, send)
    return sorted(touched - set(failed)), failed
