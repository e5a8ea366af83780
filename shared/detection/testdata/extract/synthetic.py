#!/usr/bin/env python3
"""Positive evidence for the rules no public dataset shows firing.

No record in ../shared/datasets deletes a GuardDuty detector, writes an
EventBridge rule, or touches a resource named "trailhound". For those rules the
positive example is a real record (named in "source") changed in the fields the
rule looks at, and nothing else; "synthetic" says exactly what was changed. The
EventBridge positives are records of events/demo, Trailhound's generated
scenario. Run from the repository root:

    python3 shared/detection/testdata/extract/synthetic.py

It rewrites the synthetic lines of testdata/rules/<rule>.jsonl and keeps the
real ones.
"""
import copy
import gzip
import glob
import json
import os

RULES = "shared/detection/testdata/rules"
DATASETS = os.environ.get("TRAILHOUND_DATASETS", "../shared/datasets")


def invictus(event_id):
    for f in sorted(glob.glob(f"{DATASETS}/invictus-aws-stratus-simulation/raw/*.json")):
        for r in json.load(open(f))["Records"]:
            if r["eventID"] == event_id:
                return r, f"Invictus IR aws_dataset event {event_id} ({os.path.basename(f)}, MIT)"
    raise SystemExit(f"event {event_id} not found")


def stratus(technique, index=0):
    r = json.load(open(f"{DATASETS}/stratus-red-team-detonation-logs/{technique}.json"))[index]
    return r, f"Stratus Red Team detonation log {technique}.json record {index} (DataDog/stratus-red-team, Apache-2.0)"


def demo(event_name, account, region):
    for f in sorted(glob.glob(f"events/demo/AWSLogs/*/{account}/CloudTrail/{region}/*/*/*/*.json.gz")):
        for r in json.load(gzip.open(f))["Records"]:
            if r["eventName"] == event_name and r.get("sourceIPAddress") == "185.220.101.47":
                return r, f"events/demo (Trailhound's generated scenario), {os.path.basename(f)}, event {r['eventID']}"
    raise SystemExit(f"no demo {event_name}")


def change(base, what, **fields):
    r = copy.deepcopy(base[0])
    for k, v in fields.items():
        r[k] = v
    r["eventID"] = "synthetic-" + r["eventID"]
    return {"expect": True, "source": base[1], "synthetic": what, "record": r}


ADMIN_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def positives():
    gd = invictus("3c13a8db-cbdf-431f-bdff-bf3dc049d04c")  # GetDetector by bert-jan's console
    attach = stratus("aws.persistence.iam-create-backdoor-role", 0)  # AttachRolePolicy by christophe
    assert attach[0]["eventName"] == "AttachRolePolicy"
    put_role_policy = (attach[0], attach[1])
    create_policy = (attach[0], attach[1])
    layer = stratus("aws.persistence.lambda-layer-extension")
    code = stratus("aws.persistence.lambda-overwrite-code")
    create_fn = invictus("2e15203f-d196-441a-adeb-794b195b4a28")
    put_rule = demo("PutRule", "222222222222", "us-east-1")
    put_targets = demo("PutTargets", "222222222222", "us-east-1")
    detector = gd[0]["requestParameters"]["detectorId"]
    fn_arn = layer[0]["requestParameters"]["functionName"]
    return {
        "guardduty-disabled": [change(gd, "eventName GetDetector -> DeleteDetector, readOnly false", eventName="DeleteDetector", readOnly=False)],
        "guardduty-findings-suppressed": [change(gd, "eventName -> CreateFilter with an ARCHIVE filter", eventName="CreateFilter", readOnly=False,
                                                 requestParameters={"detectorId": detector, "name": "quiet", "action": "ARCHIVE",
                                                                    "findingCriteria": {"criterion": {"severity": {"gte": 1}}}})],
        "guardduty-detector-suspended": [change(gd, "eventName -> UpdateDetector with enable false", eventName="UpdateDetector", readOnly=False,
                                                requestParameters={"detectorId": detector, "enable": False})],
        "access-analyzer-deleted": [change(gd, "eventSource guardduty -> access-analyzer, eventName -> DeleteAnalyzer",
                                           eventSource="access-analyzer.amazonaws.com", eventName="DeleteAnalyzer", readOnly=False,
                                           requestParameters={"analyzerName": "org-analyzer"})],
        "admin-inline-policy": [change(put_role_policy, "eventName AttachRolePolicy -> PutRolePolicy with an Allow * on * document",
                                       eventName="PutRolePolicy",
                                       requestParameters={"roleName": attach[0]["requestParameters"]["roleName"], "policyName": "inline",
                                                          "policyDocument": ADMIN_DOC})],
        "admin-policy-version": [change(create_policy, "eventName AttachRolePolicy -> CreatePolicyVersion with an Allow * on * document, setAsDefault",
                                        eventName="CreatePolicyVersion",
                                        requestParameters={"policyArn": "arn:aws:iam::123837392027:policy/stratus-red-team-ec2lui-policy-pcccexdthk",
                                                           "policyDocument": ADMIN_DOC, "setAsDefault": True}, responseElements=None)],
        "policy-version-set-default": [change(create_policy, "eventName AttachRolePolicy -> SetDefaultPolicyVersion",
                                              eventName="SetDefaultPolicyVersion",
                                              requestParameters={"policyArn": "arn:aws:iam::123837392027:policy/stratus-red-team-ec2lui-policy-pcccexdthk",
                                                                 "versionId": "v1"}, responseElements=None)],
        "lambda-role-or-environment-changed": [change(layer, "layers removed, environment variables set",
                                                      requestParameters={"functionName": fn_arn,
                                                                         "environment": {"variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper"}}})],
        "lambda-event-source-mapped": [change(create_fn, "eventName CreateFunction20150331 -> CreateEventSourceMapping20150331 from a queue",
                                              eventName="CreateEventSourceMapping20150331",
                                              requestParameters={"functionName": "stratus-red-team-backdoor-f-func",
                                                                 "eventSourceArn": "arn:aws:sqs:us-east-1:123837392027:orders", "batchSize": 10},
                                              responseElements=None)],
        "eventbridge-rule-put": [dict(expect=True, source=put_rule[1], synthetic="generated scenario record, unchanged", record=put_rule[0])],
        "eventbridge-lambda-target": [dict(expect=True, source=put_targets[1], synthetic="generated scenario record, unchanged", record=put_targets[0])],
        "trailhound-tampered": [change(put_targets, "rule sys-health-check-schedule -> trailhound-detector, RemoveTargets",
                                       eventName="RemoveTargets", requestParameters={"rule": "trailhound-detector", "ids": ["detector"]})],
        "trailhound-function-tampered": [change(code, "functionName -> trailhound-detector",
                                                requestParameters=dict(code[0]["requestParameters"], functionName="trailhound-detector"))],
        "trailhound-table-tampered": [change(gd, "eventSource guardduty -> dynamodb, eventName -> DeleteTable on trailhound",
                                             eventSource="dynamodb.amazonaws.com", eventName="DeleteTable", readOnly=False,
                                             requestParameters={"tableName": "trailhound"})],
    }


def main():
    for rule, lines in positives().items():
        path = f"{RULES}/{rule}.jsonl"
        kept = [l for l in open(path) if l.strip() and "synthetic" not in json.loads(l)]
        with open(path, "w") as f:
            for l in kept:
                f.write(l if l.endswith("\n") else l + "\n")
            for e in lines:
                f.write(json.dumps(e) + "\n")


if __name__ == "__main__":
    main()
