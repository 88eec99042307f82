#!/usr/bin/env python3
# tests/prom-check.py: reads a daemon's Prometheus text (vhost-uring-ctl
# stats --format=prometheus) with a parser that is not ours, Debian's
# python3-prometheus-client, and checks it against the JSON statistics
# taken right after it (vhost-uring-ctl stats): one HELP and one TYPE line
# per family, before its samples; names under vhost_uring_; counters named
# ..._total; the labels device, disk, lun (scsi) and queue, or kind and le
# for the latency histogram; and every value equal to the JSON's.
# Usage: prom-check.py PROM_FILE JSON_FILE.  Exit 0 when all holds, else 1
# with one line per problem.
import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print('prom-check: python3-prometheus-client is missing '
          '(tests/install-deps.sh installs it)')
    sys.exit(1)

PREFIX = 'vhost_uring_'
problems = []


def problem(msg):
    problems.append(msg)


def check_help_type(text):
    """One HELP and one TYPE line per family, before its first sample."""
    seen = {}
    for line in text.splitlines():
        if line.startswith('# HELP ') or line.startswith('# TYPE '):
            kind, name = line.split()[1], line.split()[2]
            seen.setdefault(name, {}).setdefault(kind, 0)
            seen[name][kind] += 1
            if kind == 'TYPE' and 'HELP' not in seen[name]:
                problem('%s: TYPE before HELP' % name)
        elif line and not line.startswith('#'):
            name = line.split('{')[0].split()[0]
            fam = [f for f in seen if name == f or
                   (name.startswith(f + '_') and
                    name[len(f) + 1:] in ('bucket', 'sum', 'count'))]
            if not fam:
                problem('sample %s before its HELP and TYPE lines' % name)
    for name, kinds in seen.items():
        if kinds.get('HELP') != 1 or kinds.get('TYPE') != 1:
            problem('%s: %s HELP and TYPE lines' % (name, kinds))
    return seen


def disks_of(stats):
    """(disk path, lun or None) -> the JSON object of that disk."""
    if 'luns' in stats:
        return {(d['disk'], str(d['lun'])): d for d in stats['luns']}
    return {(stats['disk'], None): stats}


def check_counter(fam, disks, device):
    key = fam.name[len(PREFIX):]
    for s in fam.samples:
        want = {'device', 'disk', 'queue'} | ({'lun'} if s.labels.get('lun') else set())
        if not s.name.endswith('_total'):
            problem('%s: a counter sample not named _total' % s.name)
        if set(s.labels) != want or s.labels['device'] != device:
            problem('%s: labels %s' % (s.name, s.labels))
            continue
        d = disks.get((s.labels['disk'], s.labels.get('lun')))
        q = [e for e in d['queues'] if str(e['queue']) == s.labels['queue']] if d else []
        if not q or q[0][key] != s.value:
            problem('%s%s = %s, JSON %s' % (s.name, s.labels, s.value,
                                           q[0][key] if q else 'none'))
    for (path, lun), d in disks.items():
        got = sum(s.value for s in fam.samples
                  if s.labels.get('disk') == path and s.labels.get('lun') == lun)
        if got != d[key]:
            problem('%s of %s lun %s: the queues sum to %s, JSON total %s'
                    % (fam.name, path, lun, got, d[key]))


def check_histogram(fam, disks, device):
    seen = set()
    for s in fam.samples:
        lab = dict(s.labels)
        le = lab.pop('le', None)
        want = {'device', 'disk', 'kind'} | ({'lun'} if lab.get('lun') else set())
        if set(lab) != want or lab['device'] != device:
            problem('%s: labels %s' % (s.name, s.labels))
            continue
        d = disks.get((lab['disk'], lab.get('lun')))
        h = d['latency_us'][lab['kind']] if d else None
        if h is None:
            problem('%s: no such disk or kind in the JSON: %s' % (s.name, lab))
            continue
        seen.add((lab['disk'], lab.get('lun'), lab['kind']))
        if s.name.endswith('_count') and s.value != h['count']:
            problem('%s%s = %s, JSON count %s' % (s.name, lab, s.value, h['count']))
        elif s.name.endswith('_sum') and abs(s.value - h['sum_us'] / 1e6) > 2e-6:
            problem('%s%s = %s, JSON sum_us %s' % (s.name, lab, s.value, h['sum_us']))
        elif s.name.endswith('_bucket'):
            bound = float(le)
            cum = sum(b['count'] for b in h['buckets']
                      if b['lt_us'] is not None and b['lt_us'] / 1e6 <= bound * (1 + 1e-9))
            if le == '+Inf':
                cum = h['count']
            if s.value != cum:
                problem('%s%s le=%s = %s, JSON cumulative %s' % (s.name, lab, le, s.value, cum))
    for (path, lun), d in disks.items():
        for kind in d['latency_us']:
            if (path, lun, kind) not in seen:
                problem('no %s histogram for %s lun %s' % (kind, path, lun))


def main():
    text = open(sys.argv[1]).read()
    stats = json.load(open(sys.argv[2]))
    device = stats['device']
    disks = disks_of(stats)
    declared = check_help_type(text)
    families = list(text_string_to_metric_families(text))
    types = {}
    for fam in families:
        if not fam.name.startswith(PREFIX):
            problem('%s: not under %s' % (fam.name, PREFIX))
        types[fam.name] = fam.type
        if fam.type == 'counter':
            if fam.name + '_total' not in declared:
                problem('%s: its TYPE line does not name it _total' % fam.name)
            check_counter(fam, disks, device)
        elif fam.type == 'histogram':
            check_histogram(fam, disks, device)
        else:
            problem('%s: type %s' % (fam.name, fam.type))
    for key in ('read_ops', 'write_ops', 'read_bytes', 'write_bytes', 'flush_ops',
                'discard_ops', 'write_zeroes_ops', 'errors'):
        if types.get(PREFIX + key) != 'counter':
            problem('no counter %s%s_total' % (PREFIX, key))
    if types.get(PREFIX + 'request_latency_seconds') != 'histogram':
        problem('no histogram %srequest_latency_seconds' % PREFIX)
    for p in problems[:20]:
        print('prom-check:', p)
    if not problems:
        print('prom-check: %d families, %d samples match the JSON'
              % (len(families), sum(len(f.samples) for f in families)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
