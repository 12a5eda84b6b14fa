"""Reliability, S3 backend: 8 OS processes provision the same new bucket and lock table at once (moto server).

Each process is `python -m provisioner_core.cli.main backend app -s dev -o json` on one stack tree.
A gate in the fault proxy (tests/support/faults.py) holds the answers to every process's first
HeadBucket until all 8 have been answered by the server, and again every first DescribeTable: all
8 see "missing" and all 8 race CreateBucket and CreateTable, the worst case for duplicate or
conflicting settings.

moto's CreateTable is a check-then-insert (not atomic: several racing creates can all answer
200), so the proxy forwards CreateTable calls one at a time; the table then answers the race as
DynamoDB does (one 200, ResourceInUseException for the others). CreateBucket needs no help.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

from support.faults import FaultProxy, is_write
from support.s3_reliability import (
    DEFAULT_TAGS,
    SECRET_KEY,
    TLS_SID,
    USER_TAGS,
    admin,
    bucket_gaps,
    one_result,
    run_provision,
    start_provision,
    table_gaps,
    write_stack,
)

PROCESSES = 8


def test_eight_processes_provision_one_new_bucket_and_lock_table(moto_server, stack_tree):
    bucket, table = f"race-{uuid.uuid4().hex[:12]}", f"race-locks-{uuid.uuid4().hex[:8]}"
    with FaultProxy(moto_server.url) as proxy:
        write_stack(stack_tree, proxy.url, bucket, table)
        heads = proxy.hold(lambda r: r.method == "HEAD" and r.path == f"/{bucket}", PROCESSES, auto_open=True, after_forward=True)
        describes = proxy.hold(lambda r: r.aws_operation == "DescribeTable", PROCESSES, auto_open=True, after_forward=True)
        proxy.serialize(lambda r: r.aws_operation == "CreateTable")

        workers = [start_provision(stack_tree.root) for _ in range(PROCESSES)]
        outputs = [worker.communicate(timeout=180) for worker in workers]

        codes = [worker.returncode for worker in workers]
        assert codes == [0] * PROCESSES, [err for _, err in outputs]
        # The gates opened because all 8 were waiting, not by timeout: the processes really raced.
        assert heads.arrived.is_set() and describes.arrived.is_set()
        creates = [e for e in proxy.exchanges if e.request.method == "PUT" and e.request.path == f"/{bucket}" and not e.request.query]
        table_creates = [e for e in proxy.exchanges if e.request.aws_operation == "CreateTable"]
        assert len(creates) == PROCESSES and Counter(e.status for e in creates) == {200: 1, 409: PROCESSES - 1}
        dynamodb = [
            (e.request.seq, e.request.aws_operation, e.status, e.outcome) for e in proxy.exchanges if e.request.aws_service == "dynamodb"
        ]
        assert len(table_creates) == PROCESSES and Counter(e.status for e in table_creates) == {200: 1, 400: PROCESSES - 1}, dynamodb

        results = [one_result(out) for out, _ in outputs]
        print(
            f"\nFIGURES processes={PROCESSES} requests={len(proxy.exchanges)} create_bucket={dict(Counter(e.status for e in creates))}"
            f" create_table={dict(Counter(e.status for e in table_creates))} statuses={dict(Counter(r['status'] for r in results))}"
        )
        assert {r["status"] for r in results} <= {"created", "updated", "unchanged"}
        for out, err in outputs:
            assert SECRET_KEY not in out + err and "Traceback" not in out + err
        create_details = [a["detail"] for r in results for a in r["actions"] if a["verb"] == "create-bucket"]
        table_details = [a["detail"] for r in results for a in r["actions"] if a["verb"] == "create-table"]
        # One process created each; the other seven say they found it created by a concurrent run.
        assert len(create_details) == PROCESSES and sum("concurrent" not in d for d in create_details) == 1
        assert len(table_details) == PROCESSES and sum("concurrent" not in d for d in table_details) == 1

        s3, ddb = admin(moto_server.url), admin(moto_server.url, "dynamodb")
        assert bucket_gaps(s3, bucket) == []
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert [s["Sid"] for s in policy["Statement"]] == [TLS_SID]  # exactly once, nothing conflicting
        assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == {**DEFAULT_TAGS, **USER_TAGS}
        assert table_gaps(ddb, table) == []
        assert len([name for name in ddb.list_tables()["TableNames"] if name == table]) == 1
        described = ddb.describe_table(TableName=table)["Table"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert described["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]

        # A ninth run afterwards finds nothing to do: no write reaches the server.
        proxy.reset()
        again = run_provision(stack_tree.root)
        assert again.returncode == 0 and one_result(again.stdout)["status"] == "unchanged"
        assert [str(r) for r in proxy.requests() if is_write(r)] == []
