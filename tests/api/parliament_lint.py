"""Lints IAM policy documents with parliament (https://github.com/duo-labs/parliament); run by tests/api/policies.rs.

Reads {"<name>": <policy document>, ...} as JSON on stdin. Prints, as one JSON list, every finding of parliament's
default auditors: the document's name, the index of the statement the finding is about (null when it is about the
whole document), the issue, parliament's severity for it (INFO, LOW, MEDIUM, HIGH or CRITICAL) and the detail.
"""

import json
import sys

import parliament


def main():
    documents = json.load(sys.stdin)
    findings = []
    for name, document in documents.items():
        # Indented, so that a finding's location reads like the document does.
        policy = parliament.analyze_policy_string(json.dumps(document, indent=2))
        located = [(None, f) for f in policy._findings]
        located += [(i, f) for i, s in enumerate(policy.statements) for f in s.findings]
        for statement, finding in located:
            finding = parliament.enhance_finding(finding)
            findings.append(
                {
                    "policy": name,
                    "statement": statement,
                    "issue": finding.issue,
                    "severity": finding.severity,
                    "detail": finding.detail,
                }
            )
    json.dump(findings, sys.stdout, default=str)


if __name__ == "__main__":
    main()
