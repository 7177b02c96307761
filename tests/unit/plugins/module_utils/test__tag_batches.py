from __future__ import annotations

import random

import botocore.exceptions
import botocore.parsers
import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_estimates import monthly_cost, rank_untagged
from ansible_collections.keel.platform.plugins.module_utils._tag_batches import (
    Refused,
    apply_batches,
    batches,
    isolate,
    room_keys,
    splittable,
)


def change(arn, add, remove=(), region="r"):
    return {"arn": arn, "region": region, "add": add, "remove": list(remove)}


def test_batches_group_equal_tags_by_region_twenty_arns_at_most_and_skip_aws_keys():
    plans = [change(f"a{n}", {"team": "x"}) for n in range(45)]
    plans += [change("b", {"team": "y", "aws:x": "1"}, ["Team", "aws:y"]), change("c", {"team": "x"}, region="s")]
    out = batches(plans)
    sizes = [(b["operation"], b["region"], len(b["arns"])) for b in out]
    assert sizes == [
        ("tag", "r", 20),
        ("tag", "r", 20),
        ("tag", "r", 5),
        ("tag", "r", 1),
        ("tag", "s", 1),
        ("untag", "r", 1),
    ]
    assert out[3]["tags"] == {"team": "y"}
    assert out[-1]["keys"] == ["Team"]
    with pytest.raises(ValueError, match="between 1 and 20"):
        batches(plans, 21)


def test_per_arn_failures_are_retried_with_backoff_and_the_rest_kept():
    calls, sleeps = [], []
    flaky = {"a1": 1}

    def call(batch, arns):
        calls.append(list(arns))
        answer = {}
        if "a0" in arns:
            answer["a0"] = {"StatusCode": 400, "ErrorCode": "InvalidParameterException", "ErrorMessage": "bad"}
        if "a1" in arns and flaky["a1"]:
            flaky["a1"] -= 1
            answer["a1"] = {"StatusCode": 500, "ErrorCode": "InternalServiceException", "ErrorMessage": "later"}
        if "a2" in arns:
            answer["a2"] = {"StatusCode": 400, "ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}
        return answer

    planned = [{"operation": "tag", "region": "r", "tags": {"t": "v"}, "arns": ["a0", "a1", "a2", "a3"]}]
    done, failed = apply_batches(planned, call, retries=2, sleep=sleeps.append, rng=lambda: 1.0)
    assert done == ["a1", "a3"]
    assert failed == {"a0": "InvalidParameterException: bad", "a2": "ThrottlingException: slow"}
    assert calls == [["a0", "a1", "a2", "a3"], ["a1", "a2"], ["a2"]]
    assert sleeps == [0.5, 1.0]


def test_a_key_is_not_removed_from_a_resource_whose_tagging_failed():
    calls = []

    def call(batch, arns):
        calls.append((batch["operation"], list(arns)))
        denied = {"StatusCode": 400, "ErrorCode": "AccessDeniedException", "ErrorMessage": "no"}
        return {"a": denied} if "a" in arns else {}

    plans = [change(arn, {"team": "x"}, ["Team"]) for arn in ("a", "b")]
    done, failed = apply_batches(batches(plans), call, sleep=lambda _: None)
    assert calls == [("tag", ["a", "b"]), ("untag", ["b"])]
    assert done == ["b"]
    assert list(failed) == ["a"]


def test_cost_estimates_rank_the_costliest_first():
    resources = [
        {"arn": "v", "type": "volume", "size_gb": 500, "volume_type": "gp3"},
        {"arn": "i", "type": "instance", "instance_type": "m6i.large", "state": "running"},
        {"arn": "s", "type": "snapshot", "size_gb": 100},
    ]
    assert [monthly_cost(r) for r in resources] == [40.0, 70.08, 5.0]
    assert monthly_cost({"type": "instance", "instance_type": "x9.4xlarge"}) == 584.0
    plans = [
        {
            "arn": r["arn"],
            "id": r["arn"],
            "type": r["type"],
            "region": "r",
            "compliant": False,
            "actions": [{"key": "team", "action": "not_fixable"}],
        }
        for r in resources
    ]
    assert [item["arn"] for item in rank_untagged(plans, resources)] == ["i", "v", "s"]


def test_the_grouping_with_fewest_calls_wins_and_only_sends_target_values():
    def plan(arn, add, after):
        return {
            "arn": arn,
            "region": "r",
            "add": add,
            "remove": [],
            "after": after,
            "actions": [{"key": "team"}, {"key": "env"}],
        }

    # 15 resources miss env, 15 miss team, all end with team=a, env=p: one call by target, two by add
    plans = [plan(f"e{n}", {"env": "p"}, {"team": "a", "env": "p", "x": "1"}) for n in range(10)]
    plans += [plan(f"t{n}", {"team": "a"}, {"team": "a", "env": "p"}) for n in range(10)]
    out = batches(plans)
    assert [(b["tags"], len(b["arns"])) for b in out] == [({"env": "p", "team": "a"}, 20)]
    # different targets but one shared missing key: per (key, value) needs fewer calls
    plans = [plan(f"i{n}", {"env": "p"}, {"team": f"t{n}", "env": "p"}) for n in range(20)]
    assert [(b["tags"], len(b["arns"])) for b in batches(plans)] == [({"env": "p"}, 20)]


def test_every_need_is_covered_by_the_cheapest_grouping():
    def plan(arn, team, env):
        return {
            "arn": arn,
            "region": "r",
            "add": {"team": team, "env": env},
            "remove": [],
            "after": {"team": team, "env": env},
            "actions": [{"key": "team"}, {"key": "env"}],
        }

    # four targets of one resource each, two teams and two envs: 4 calls by target, 4 by key,
    # and no better grouping exists; every need is still covered exactly
    plans = [plan(f"a{n}", team, env) for n, (team, env) in enumerate([("x", "p"), ("x", "d"), ("y", "p"), ("y", "d")])]
    out = batches(plans)
    assert len(out) == 4
    covered = {(arn, key, value) for b in out for arn in b["arns"] for key, value in b["tags"].items()}
    assert covered == {(p["arn"], k, v) for p in plans for k, v in p["add"].items()}
    # 21 + 5 resources of two targets: 2 + 1 calls by target beat 20 + 4 by key for the rest
    plans = [plan(f"b{n}", "x", "p") for n in range(21)] + [plan(f"c{n}", "x", "d") for n in range(5)]
    out = batches(plans)
    assert len(out) == 3
    covered = {(arn, key, value) for b in out for arn in b["arns"] for key, value in b["tags"].items()}
    assert covered == {(p["arn"], k, v) for p in plans for k, v in p["add"].items()}


def rigid(arn, **target):
    """A resource that needs its whole target (nothing of it yet)."""
    tags = {key.replace("_", "-"): value for key, value in target.items()}
    return {"arn": arn, "region": "r", "add": tags, "remove": [], "after": tags, "actions": [{"key": k} for k in tags]}


def check(plans, out, size=20):
    """Every batch is small enough, sends only final values, and every need is covered."""
    after = {p["arn"]: p["after"] for p in plans}
    sent, removed = set(), set()
    for batch in out:
        assert 1 <= len(batch["arns"]) <= size
        for arn in batch["arns"]:
            if batch["operation"] == "tag":
                assert all(after[arn].get(key) == value for key, value in batch["tags"].items())
                sent.update((arn, key, value) for key, value in batch["tags"].items())
            else:
                assert not set(batch["keys"]) & set(after[arn])
                removed.update((arn, key) for key in batch["keys"])
    assert {(p["arn"], k, v) for p in plans for k, v in p["add"].items()} <= sent
    assert {(p["arn"], k) for p in plans for k in p["remove"]} <= removed


def test_a_partial_call_is_split_into_the_free_places_of_calls_of_its_sub_maps():
    # 21 need team, env, cost-center; 19 only team and env (no cost-center); 19 only cost-center:
    # by target 2 + 1 + 1 calls; the 21st resource's team+env and cost-center fill the other two
    plans = [rigid(f"a{n}", team="x", env="p", cost_center="c") for n in range(21)]
    plans += [rigid(f"b{n}", team="x", env="p") for n in range(19)]
    plans += [rigid(f"c{n}", cost_center="c") for n in range(19)]
    out = batches(plans)
    check(plans, out)
    assert len(out) == 3  # the floor: 59 resources, 20 a call
    assert sorted(len(b["arns"]) for b in out) == [20, 20, 20]


def test_removed_keys_share_calls_when_no_resource_keeps_one_of_them():
    plans = [
        dict(rigid(f"{key}{n}", team="x"), remove=[key]) for key in ("Team", "ENV", "CostCenter") for n in range(5)
    ]
    keeps_env = dict(rigid("k", team="x"), remove=["Team"])
    keeps_env["after"] = {"team": "x", "ENV": "prod"}
    plans.append(keeps_env)
    out = [b for b in batches(plans) if b["operation"] == "untag"]
    check(plans, batches(plans))
    assert [(b["keys"], len(b["arns"])) for b in out] == [(["CostCenter", "ENV", "Team"], 15), (["Team"], 1)]


@pytest.mark.parametrize("seed", range(20))
def test_random_estates_are_covered_exactly_and_never_need_more_calls_than_by_target(seed):
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data
    plans = []
    for n in range(rng.randrange(1, 300)):
        target = {"team": rng.choice("abc"), "env": rng.choice("pq"), "cost-center": rng.choice("xyz")}
        for key in rng.sample(sorted(target), rng.randrange(0, 2)):
            del target[key]  # not fixable
        add = {k: v for k, v in target.items() if rng.random() < 0.8} or dict(target)
        renamed = ["Team"] if "team" in add and rng.random() < 0.2 else []
        plans.append(
            {
                "arn": f"arn{n}",
                "region": rng.choice(["r", "s"]),
                "add": add,
                "remove": renamed,
                "after": dict(target, Name=f"n{n}"),
                "actions": [{"key": key} for key in target],
            }
        )
    size = rng.choice([5, 20])
    out = batches(plans, size)
    check(plans, out, size)
    by_target = {}
    for p in plans:
        target = tuple(sorted((k, v) for k, v in p["after"].items() if k != "Name"))
        by_target.setdefault((p["region"], target), []).append(p)
    tag_calls = sum(b["operation"] == "tag" for b in out)
    assert tag_calls <= sum(-(-len(members) // size) for members in by_target.values())


def crowded(arn, region="r", extra=48):
    """A resource at 50 tags whose Team becomes team (a rename), and its plan."""
    before = {f"k{n:02d}": "v" for n in range(extra)} | {"Team": "payments", "env": "prod"}
    after = {k: v for k, v in before.items() if k != "Team"} | {"team": "payments"}
    actions = [{"key": "team", "action": "rename", "from": "Team", "value": "payments"}]
    return {
        "arn": arn,
        "region": region,
        "before": before,
        "after": after,
        "add": {"team": "payments"},
        "remove": ["Team"],
        "actions": actions,
    }


@pytest.mark.parametrize(
    ("extra", "remove_tags", "room"),
    [
        (48, [], ["Team"]),  # 50 tags: the rename needs one place
        (47, [], []),  # 49 tags: the new key fits beside the old one
        (48, ["k00"], ["k00"]),  # a plain removal makes the room; the renamed key stays until team is set
        (48, ["k00", "k01"], ["k00"]),  # no more than needed
    ],
)
def test_room_is_made_only_where_the_limit_needs_it_and_plain_removals_first(extra, remove_tags, room):
    plan = crowded("a", extra=extra)
    plan["remove"] = sorted(plan["remove"] + remove_tags)
    assert room_keys(plan) == room


def test_a_rename_at_the_limit_untags_first_then_tags_and_the_others_keep_the_safe_order():
    plans = [crowded("full"), change("roomy", {"team": "payments"}, ["Team"])]
    out = batches(plans)
    assert [(b["operation"], b["arns"], b.get("keys") or b.get("tags")) for b in out] == [
        ("untag", ["full"], ["Team"]),
        ("tag", ["roomy", "full"], {"team": "payments"}),
        ("untag", ["roomy"], ["Team"]),
    ]
    assert out[0]["room"] is True
    assert out[0]["restore"] == {"full": {"Team": "payments"}}


def fake_aws(fail):
    """call(batch, arns) over {arn: tags}; fail(batch, arn) -> failure or None."""
    tags = {"full": dict(crowded("full")["before"])}
    calls = []

    def call(batch, arns):
        calls.append((batch["operation"], dict(batch.get("tags") or dict.fromkeys(batch.get("keys", ())))))
        answer = {}
        for arn in arns:
            failure = fail(batch, arn)
            if failure is None and batch["operation"] == "tag" and len(tags[arn] | batch["tags"]) > 50:
                failure = {"StatusCode": 400, "ErrorCode": "TagLimitExceeded", "ErrorMessage": "too many"}
            if failure:
                answer[arn] = failure
            elif batch["operation"] == "tag":
                tags[arn].update(batch["tags"])
            else:
                for key in batch["keys"]:
                    tags[arn].pop(key, None)
        return answer

    return call, calls, tags


def test_a_rename_at_the_limit_converges():
    call, _calls, tags = fake_aws(lambda batch, arn: None)
    done, failed = apply_batches(batches([crowded("full")]), call, sleep=lambda _: None)
    assert (done, failed) == (["full"], {})
    assert tags["full"] == crowded("full")["after"]
    assert len(tags["full"]) == 50


DENIED = {"StatusCode": 400, "ErrorCode": "AccessDeniedException", "ErrorMessage": "no"}


def test_when_the_new_key_cannot_be_set_the_removed_one_is_put_back():
    call, calls, tags = fake_aws(lambda batch, arn: DENIED if batch.get("tags") == {"team": "payments"} else None)
    done, failed = apply_batches(batches([crowded("full")]), call, sleep=lambda _: None)
    assert done == []
    assert failed["full"] == (
        "AccessDeniedException: no; Team=payments, removed first to make room (at most 50 tags), was put back"
    )
    assert tags["full"] == crowded("full")["before"]
    assert calls == [("untag", {"Team": None}), ("tag", {"team": "payments"}), ("tag", {"Team": "payments"})]


def test_when_putting_it_back_fails_too_the_value_is_in_the_message():
    call, _calls, tags = fake_aws(lambda batch, arn: DENIED if batch["operation"] == "tag" else None)
    _done, failed = apply_batches(batches([crowded("full")]), call, sleep=lambda _: None)
    assert failed["full"] == (
        "AccessDeniedException: no; Team=payments had been removed first to make room (at most 50 tags) and "
        "putting it back failed (AccessDeniedException: no): set it back by hand"
    )
    assert "Team" not in tags["full"]


def test_when_room_cannot_be_made_nothing_is_tagged():
    call, calls, tags = fake_aws(lambda batch, arn: DENIED if batch["operation"] == "untag" else None)
    _done, failed = apply_batches(batches([crowded("full")]), call, sleep=lambda _: None)
    assert (
        failed["full"] == "AccessDeniedException: no (removing Team to make room for the new tags; nothing was changed)"
    )
    assert calls == [("untag", {"Team": None})]
    assert tags["full"] == crowded("full")["before"]


def refusing(bad, named=False):
    """send() of a Tagging API that refuses a whole call holding one of `bad` (naming it, or not)."""
    sent = []

    def send(arns):
        sent.append(list(arns))
        culprits = [arn for arn in arns if arn in bad]
        if culprits:
            message = f"{culprits[0]} is not valid" if named else "One or more of the resource ARNs is not valid"
            raise Refused({"StatusCode": 400, "ErrorCode": "InvalidParameterException", "ErrorMessage": message}, True)
        return {}

    return send, sent


ARNS = [f"arn:{n}" for n in range(8)]


@pytest.mark.parametrize(
    ("bad", "named", "expected_sent"),
    [
        (["arn:5"], False, [ARNS, ARNS[:4], ARNS[4:], ["arn:4", "arn:5"], ["arn:4"], ["arn:5"], ARNS[6:]]),
        (["arn:5"], True, [ARNS, ["arn:5"], [a for a in ARNS if a != "arn:5"]]),
        (
            ["arn:0", "arn:7"],
            False,
            [
                ARNS,
                ARNS[:4],
                ARNS[:2],
                ["arn:0"],
                ["arn:1"],
                ARNS[2:4],
                ARNS[4:],
                ARNS[4:6],
                ARNS[6:],
                ["arn:6"],
                ["arn:7"],
            ],
        ),
        ([], False, [ARNS]),
    ],
)
def test_a_refused_call_is_split_until_each_bad_arn_is_refused_alone(bad, named, expected_sent):
    send, sent = refusing(bad, named)
    failed = isolate(send, ARNS)
    assert sorted(failed) == bad
    assert all(failure["ErrorCode"] == "InvalidParameterException" for failure in failed.values())
    assert sent == expected_sent


def test_a_refusal_no_single_arn_causes_is_not_split():
    sent = []

    def send(arns):
        sent.append(arns)
        raise Refused(DENIED, splittable=False)

    assert isolate(send, ARNS) == dict.fromkeys(ARNS, DENIED)
    assert sent == [ARNS]


def client_error(code, status):
    response = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return botocore.exceptions.ClientError(response, "TagResources")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("InvalidParameterException", 400), True),
        (client_error("TagLimitExceeded", 400), True),
        (client_error("AccessDeniedException", 400), False),
        (client_error("ThrottlingException", 400), False),
        (client_error("UnrecognizedClientException", 400), False),
        (client_error("InternalServiceException", 500), False),
        (botocore.parsers.ResponseParserError("<!doctype html>"), False),
    ],
)
def test_only_refusals_one_arn_can_cause_are_split(error, expected):
    assert splittable(error) is expected
