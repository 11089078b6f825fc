"""``check --format junit``: one testcase per KPI, as GitLab's and Jenkins' JUnit reports read.

``classname`` is the scorecard, ``file`` the spec file; a gated miss is a ``failure`` with the
value against the bound, a KPI without target is ``skipped``; warnings go to ``system-out``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from kpispec.escaping import xml_text as _xml
from kpispec.gate.describe import bound_text, sentence, spec_place, value_text
from kpispec.gate.verdict import FAIL, SKIP, WARN, Judged, Verdict


def _case(judged: Judged, root: str) -> ET.Element:
    card, kpi = judged.card, judged.kpi
    file, line = spec_place(kpi)
    case = ET.Element(
        "testcase",
        {
            "classname": _xml(card.id),
            "name": _xml(f"{kpi.name} ({kpi.id})"),
            "file": _xml(f"{root}{file}"),
            "line": str(line),
            "time": "0",
        },
    )
    text = _xml(sentence(card, kpi))
    if judged.outcome is FAIL:
        locale = card.locale
        message = (
            f"{kpi.status.words}: {value_text(kpi, kpi.value, locale)} "
            f"against {bound_text(kpi, locale)} in {kpi.period.label}"
        )
        failure = ET.SubElement(
            case, "failure", {"message": _xml(message), "type": str(kpi.status)}
        )
        failure.text = _xml(f"{text}\n{root}{file}:{line}")
    elif judged.outcome is SKIP:
        ET.SubElement(case, "skipped", {"message": "no target"})
    out = ET.SubElement(case, "system-out")
    out.text = text if judged.outcome is not WARN else f"warning: {text}"  # already XML text
    return case


def render(verdict: Verdict, root: str = "") -> str:
    by_card: dict[str, list[Judged]] = defaultdict(list)
    for judged in verdict.judged:
        by_card[judged.card.id].append(judged)
    suites = ET.Element(
        "testsuites",
        {
            "name": "kpispec",
            "tests": str(len(verdict.judged)),
            "failures": str(len(verdict.failures)),
            "errors": "0",
            "skipped": str(sum(j.outcome is SKIP for j in verdict.judged)),
        },
    )
    for card_id, items in by_card.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            {
                "name": _xml(card_id),
                "tests": str(len(items)),
                "failures": str(sum(j.outcome is FAIL for j in items)),
                "errors": "0",
                "skipped": str(sum(j.outcome is SKIP for j in items)),
            },
        )
        suite.extend(_case(j, root) for j in items)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
