# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn tag plans into TagResources/UntagResources batches and apply them (pure: the call is injected).

TagResources sets one tag map on at most 20 ARNs, so resources that need the same tags in the
same region share a call. A call answers per ARN (FailedResourcesMap): failures that may pass
(throttling, 5xx) are retried with backoff for those ARNs only; the others are reported and the
rest of the batch stands. aws: keys are never sent.
"""

from __future__ import annotations

import random
import time

MAX_ARNS = 20
_RETRYABLE_CODES = {"ThrottlingException", "Throttling", "InternalServiceException", "ServiceUnavailable"}


def _chunks(items, size):
    return [items[start : start + size] for start in range(0, len(items), size)]


def batches(plans, size=MAX_ARNS):
    """[{operation: tag|untag, region, tags or keys, arns}] for every plan with a change, at most `size` ARNs each."""
    if not 1 <= size <= MAX_ARNS:
        raise ValueError(f"batch size must be between 1 and {MAX_ARNS}, got {size}")
    tag_groups, untag_groups = {}, {}
    for result in plans:
        add = {k: v for k, v in result["add"].items() if not k.lower().startswith("aws:")}
        remove = [k for k in result["remove"] if not k.lower().startswith("aws:")]
        if add:
            tag_groups.setdefault((result["region"], tuple(sorted(add.items()))), []).append(result["arn"])
        if remove:
            untag_groups.setdefault((result["region"], tuple(remove)), []).append(result["arn"])
    out = []
    for (region, tags), arns in sorted(tag_groups.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        out.extend({"operation": "tag", "region": region, "tags": dict(tags), "arns": c} for c in _chunks(arns, size))
    for (region, keys), arns in sorted(untag_groups.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        out.extend({"operation": "untag", "region": region, "keys": list(keys), "arns": c} for c in _chunks(arns, size))
    return out


def _retryable(failure):
    return failure.get("ErrorCode") in _RETRYABLE_CODES or int(failure.get("StatusCode") or 0) >= 500


def apply_batches(planned, call, retries=3, base_delay=0.5, sleep=time.sleep, rng=random.random):
    """Run every batch with call(batch, arns) -> {arn: {StatusCode, ErrorCode, ErrorMessage}} of failed ARNs.

    Returns (done ARNs, {arn: reason}) -- an ARN is done when all its batches succeeded.
    """
    failed = {}
    touched = set()
    for batch in planned:
        pending = list(batch["arns"])
        touched.update(pending)
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
