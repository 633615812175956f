"""Turns run.sh's raw outputs (oha JSON, sse-load JSON, RSS samples) into results.json and
results.md. Usage: summarize.py OUT_DIR "reproduce command". Missing pieces are reported as
missing, never filled in."""

import json
import os
import sys

out, command = sys.argv[1], sys.argv[2]
raw = os.path.join(out, "raw")
TARGETS = ["direct", "link", "baseline"]


def load(name):
    try:
        with open(os.path.join(raw, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def cpu_ms_per_turn(name, turns):
    """CPU (utime+stime) the target's processes spent in the scenario, per turn served."""
    try:
        ticks, hz = map(int, open(os.path.join(raw, name + ".cpu")).read().split())
    except (OSError, ValueError):
        return None
    return round(ticks * 1000 / hz / turns, 3) if turns else None


def oha(name):
    r = load(name + ".json")
    if not r:
        return None
    p = r.get("latencyPercentiles", {})
    ms = lambda v: None if v is None else round(v * 1000, 3)
    codes = r.get("statusCodeDistribution", {})
    errors = dict(r.get("errorDistribution", {}))
    # Requests still in flight when oha's -z duration ends are cut off by oha itself.
    cut = errors.pop("aborted due to deadline", 0)
    return {"p50_ms": ms(p.get("p50")), "p99_ms": ms(p.get("p99")),
            "rps": round(r["summary"]["requestsPerSec"], 1),
            "success_rate": r["summary"]["successRate"],
            "status": codes, "errors": errors, "cut_at_deadline": cut,
            "cpu_ms_per_turn": cpu_ms_per_turn(name, sum(v for k, v in codes.items() if k.startswith("2")))}


def sse(name):
    r = load(name + ".json")
    if not r:
        return None
    ms = lambda v: round(v / 1000, 3)
    return {"streams": r["streams"], "failed": r["failed_streams"], "lost_chunks": r["lost_chunks"],
            "ttft_p50_ms": ms(r["ttft"]["p50_us"]), "ttft_p99_ms": ms(r["ttft"]["p99_us"]),
            "gap_p50_ms": ms(r["chunk_gap"]["p50_us"]), "gap_p99_ms": ms(r["chunk_gap"]["p99_us"]),
            "errors": r["first_errors"],
            "cpu_ms_per_turn": cpu_ms_per_turn(name, r["streams"] - r["failed_streams"])}


def rss(name):
    def mb(kb):
        return round(kb / 1024, 1)
    res = {}
    try:
        res["idle_mb"] = mb(int(open(os.path.join(raw, name + ".rss_idle")).read()))
    except (OSError, ValueError):
        pass
    for part in ("load", "soak"):
        try:
            samples = [int(l.split()[1]) for l in open(os.path.join(raw, f"{name}.rss_{part}")) if l.strip()]
        except (OSError, ValueError, IndexError):
            samples = []
        if samples:
            res[f"{part}_max_mb"] = mb(max(samples))
            if part == "soak":
                half = samples[len(samples) // 2:]
                res["soak_second_half_growth_mb"] = mb(half[-1] - half[0])
    try:
        res["after_soak_mb"] = mb(int(open(os.path.join(raw, name + ".rss_after_soak")).read()))
    except (OSError, ValueError):
        pass
    return res


results = {"machine": load("../machine.json") or {}, "command": command, "targets": {}}
for t in TARGETS:
    results["targets"][t] = {
        "requests": {s: oha(f"{t}.{s}") for s in ("c1", "q500", "q2000", "c32")},
        "streams": {s: sse(f"{t}.s{s}") for s in ("1", "64", "256")},
        "soak": oha(f"{t}.soak"),
        "rss": rss(t) if t != "direct" else {},
    }
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(results, f, indent=2)


def cell(v, fmt="{:.3f}"):
    return "missing" if v is None else fmt.format(v)


def diff(a, b):
    return None if a is None or b is None else a - b


T = results["targets"]
lines = [f"Machine: {results['machine']}", "", f"Reproduce: `{command}`", "",
         "### Requests (ms; added = minus direct-to-mock)", "",
         "| scenario | target | p50 | p99 | added p50 | added p99 | req/s | CPU ms/turn | non-2xx or errors (in flight at the end, cut by oha) |",
         "|---|---|---|---|---|---|---|---|---|"]
for s, label in (("c1", "1 client"), ("q500", "500 req/s"), ("q2000", "2000 req/s"), ("c32", "32 clients")):
    d = T["direct"]["requests"][s] or {}
    for t in TARGETS:
        r = T[t]["requests"][s]
        if r is None:
            lines.append(f"| {label} | {t} | missing | | | | | | |")
            continue
        bad = sum(v for k, v in r["status"].items() if not k.startswith("2")) + sum(r["errors"].values())
        lines.append(f"| {label} | {t} | {cell(r['p50_ms'])} | {cell(r['p99_ms'])} | "
                     f"{cell(diff(r['p50_ms'], d.get('p50_ms')))} | {cell(diff(r['p99_ms'], d.get('p99_ms')))} | "
                     f"{r['rps']} | {cell(r['cpu_ms_per_turn'])} | {bad} ({r['cut_at_deadline']}) |")
sat = {t: (T[t]["requests"]["c32"] or {}).get("rps") for t in TARGETS}
if sat["link"] and sat["baseline"]:
    lines += ["", f"Saturation ratio link / baseline at 32 clients: {sat['link'] / sat['baseline']:.1f}x"]
if sat["link"] and sat["direct"]:
    lines += [f"Saturation ratio link / direct-to-mock at 32 clients: {sat['link'] / sat['direct']:.2f}x"]
lines += ["", "### Streams (ms; added = minus direct-to-mock)", "",
          "| streams | target | TTFT p50 | TTFT p99 | added TTFT p50 | gap p50 | gap p99 | added gap p50 | lost chunks | failed streams | CPU ms/stream |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
for s in ("1", "64", "256"):
    d = T["direct"]["streams"][s] or {}
    for t in TARGETS:
        r = T[t]["streams"][s]
        if r is None:
            lines.append(f"| {s} | {t} | missing | | | | | | | | |")
            continue
        lines.append(f"| {s} | {t} | {cell(r['ttft_p50_ms'])} | {cell(r['ttft_p99_ms'])} | "
                     f"{cell(diff(r['ttft_p50_ms'], d.get('ttft_p50_ms')))} | {cell(r['gap_p50_ms'])} | "
                     f"{cell(r['gap_p99_ms'])} | {cell(diff(r['gap_p50_ms'], d.get('gap_p50_ms')))} | "
                     f"{r['lost_chunks']} | {r['failed']} | {cell(r['cpu_ms_per_turn'])} |")
lines += ["", "### Memory (RSS, MB)", "", "| target | idle | max under load | max in soak | growth over 2nd half of soak | after soak |",
          "|---|---|---|---|---|---|"]
for t in ("link", "baseline"):
    r = T[t]["rss"]
    lines.append(f"| {t} | {r.get('idle_mb', 'missing')} | {r.get('load_max_mb', 'missing')} | "
                 f"{r.get('soak_max_mb', 'missing')} | {r.get('soak_second_half_growth_mb', 'missing')} | "
                 f"{r.get('after_soak_mb', 'missing')} |")
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
