#!/usr/bin/env python3
"""Write testdata/rules/<rule-id>.jsonl from the shared CloudTrail datasets.

Usage (from anywhere):

    python3 shared/detection/testdata/extract/extract.py [DATASETS_DIR]

DATASETS_DIR defaults to $TRAILHOUND_DATASETS, then to /work/shared/datasets
as seen from this file (../../../../../shared/datasets). The evidence to
extract is listed in evidence.txt next to this script, one record a line:

    <rule-id> <+|-> <selector> [| <note>]

'+' is a record the rule must fire on, '-' one it must not. Selectors:

    stratus:<technique>#<index>   record <index> of stratus-red-team-detonation-logs/<technique>.json
    invictus:<eventID>            the record with that eventID in invictus-aws-stratus-simulation/raw/
    cloudgoat:<eventID>           the record with that eventID in otrf-cloudgoat-cloud-breach-s3/
    panther:<RuleID>#<test name>  the "log" of that test in panther-analysis-rule-tests/cloudtrail_rule_tests.jsonl
    scenario:<file>#<line>        line <line> (from 0) of panther-analysis-rule-tests/scenarios/<file>

Records are copied whole, never trimmed or edited, with one exception: a
record whose eventTime is missing or unusable (some Panther test logs) gets
"eventTime": "2024-01-01T00:00:00Z", and its "source" says so. Every line
written is {"expect": …, "source": "…", "record": {…}}. Files of rules no
longer listed are removed.
"""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'rules')
FIXED_TIME = '2024-01-01T00:00:00Z'


def datasets_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.environ.get('TRAILHOUND_DATASETS') or os.path.normpath(
        os.path.join(HERE, '..', '..', '..', '..', '..', 'shared', 'datasets'))


class Datasets:
    def __init__(self, d):
        self.d = d
        self._stratus = {}
        self._invictus = None
        self._cloudgoat = None
        self._panther = None

    def stratus(self, tech, i):
        if tech not in self._stratus:
            with open(os.path.join(self.d, 'stratus-red-team-detonation-logs', tech + '.json')) as f:
                self._stratus[tech] = json.load(f)
        rec = self._stratus[tech][i]
        return rec, f'Stratus Red Team detonation log {tech}.json, record {i} (DataDog/stratus-red-team, Apache-2.0)'

    def invictus(self, event_id):
        if self._invictus is None:
            self._invictus = {}
            labels = {}
            base = os.path.join(self.d, 'invictus-aws-stratus-simulation')
            with open(os.path.join(base, 'labels.jsonl')) as f:
                for line in f:
                    x = json.loads(line)
                    labels[x['eventID']] = x
            for fn in sorted(glob.glob(os.path.join(base, 'raw', '*.json'))):
                with open(fn) as f:
                    for r in json.load(f)['Records']:
                        self._invictus[r['eventID']] = (r, os.path.basename(fn), labels.get(r['eventID'], {}))
        r, fn, lab = self._invictus[event_id]
        label = lab.get('label') or 'unlabelled'
        if lab.get('stratus_technique'):
            label += ' ' + lab['stratus_technique']
        return r, f'Invictus IR aws_dataset, event {event_id} in raw/{fn}, labelled {label} (invictus-ir/aws_dataset, MIT)'

    def cloudgoat(self, event_id):
        if self._cloudgoat is None:
            self._cloudgoat = {}
            fn = os.path.join(self.d, 'otrf-cloudgoat-cloud-breach-s3', 'ec2_proxy_s3_exfiltration_2020-09-14011940.json')
            with open(fn) as f:
                for line in f:
                    if line.strip():
                        r = json.loads(line)
                        self._cloudgoat[r['eventID']] = r
        return self._cloudgoat[event_id], f'OTRF Security-Datasets SDAWS-200914011940 (CloudGoat cloud_breach_s3), event {event_id} (OTRF/Security-Datasets, MIT)'

    def panther(self, key):
        if self._panther is None:
            self._panther = {}
            with open(os.path.join(self.d, 'panther-analysis-rule-tests', 'cloudtrail_rule_tests.jsonl')) as f:
                for line in f:
                    x = json.loads(line)
                    self._panther[x['rule_id'] + '#' + x['test_name']] = x
        x = self._panther[key]
        mocks = ', upstream test mocks a lookup the outcome here does not depend on' if x.get('has_mocks') else ''
        return x['log'], (f'Panther rule test {x["rule_id"]} "{x["test_name"]}", expected {str(x["expected"]).lower()} '
                          f'upstream{mocks} (panther-labs/panther-analysis, Apache-2.0)')

    def scenario(self, fn, i):
        with open(os.path.join(self.d, 'panther-analysis-rule-tests', 'scenarios', fn)) as f:
            lines = [l for l in f if l.strip()]
        return json.loads(lines[i]), f'Panther test scenario {fn}, line {i} (panther-labs/panther-analysis, Apache-2.0)'

    def get(self, sel):
        kind, _, rest = sel.partition(':')
        if kind == 'stratus':
            tech, _, i = rest.rpartition('#')
            return self.stratus(tech, int(i))
        if kind == 'invictus':
            return self.invictus(rest)
        if kind == 'cloudgoat':
            return self.cloudgoat(rest)
        if kind == 'panther':
            return self.panther(rest)
        if kind == 'scenario':
            fn, _, i = rest.rpartition('#')
            return self.scenario(fn, int(i))
        raise ValueError(f'unknown selector {sel!r}')


TIME = re.compile(r'^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d')


def usable_time(rec):
    return any(isinstance(rec.get(k), str) and TIME.match(rec[k]) for k in ('eventTime', '@timestamp'))


def main():
    ds = Datasets(datasets_dir())
    out = {}
    with open(os.path.join(HERE, 'evidence.txt')) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            spec, _, note = line.partition(' | ')
            rule, expect, sel = spec.split(None, 2)
            if expect not in '+-':
                sys.exit(f'evidence.txt:{n}: expect must be + or -')
            rec, source = ds.get(sel.strip())
            if not usable_time(rec):
                rec = dict(rec)
                rec['eventTime'] = FIXED_TIME
                source += f'; eventTime set to {FIXED_TIME} (the record has no usable one)'
            if note:
                source += '; ' + note.strip()
            out.setdefault(rule, []).append({'expect': expect == '+', 'source': source, 'record': rec})
    os.makedirs(OUT, exist_ok=True)
    for fn in glob.glob(os.path.join(OUT, '*.jsonl')):
        if os.path.basename(fn)[:-6] not in out:
            os.remove(fn)
    for rule, lines in sorted(out.items()):
        with open(os.path.join(OUT, rule + '.jsonl'), 'w') as f:
            for l in lines:
                f.write(json.dumps(l, ensure_ascii=False) + '\n')
    print(f'{sum(len(v) for v in out.values())} records for {len(out)} rules', file=sys.stderr)


if __name__ == '__main__':
    main()
