"""jsoncmp — the first difference between two ctl JSON answers, for the tests that compare a
fleet with one appliance (fleet_truth.py, resp_gamma.sh)."""


def diff(a, b, path="", names=("the single appliance", "the fleet")):
    """The first difference between two JSON values (a path and both values), or None."""
    if type(a) is not type(b):
        return "%s: %r != %r" % (path, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s" % (path, k, names[0] if k in a else names[1])
            r = diff(a[k], b[k], path + "." + k, names)
            if r:
                return r
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d != %d items" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            r = diff(x, y, "%s[%d]" % (path, i), names)
            if r:
                return r
        return None
    return None if a == b else "%s: %r != %r" % (path, a, b)
