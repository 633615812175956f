"""Parses Prometheus text (stdin) with the reference parser of the Prometheus Python client
and prints it as JSON: {"families": [{"name", "type"}], "samples": [{"name", "labels", "value"}]}.
A line the parser refuses fails the run."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families, samples = [], []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({"name": family.name, "type": family.type})
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
json.dump({"families": families, "samples": samples}, sys.stdout)
