"""``dossier research Stripe`` in a real terminal (a pty, under pexpect), embedded, on
replayed sources slowed down so there is time to talk while it runs.

The user asks at once (nothing is known yet: the answer says what is pending), asks again
when the job postings have arrived (a cited answer, still mid-run), sees the research
complete with its analysis and the first answer revised, then quits.
"""

from __future__ import annotations

import os
import re
import sys
from io import StringIO
from pathlib import Path

import pexpect

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


def test_research_in_a_terminal_answers_questions_while_it_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_") and k != "NO_COLOR"}
    env.update(
        TERM="xterm-256color",
        DOSSIER_DATA_DIR=str(tmp_path / "data"),
        DOSSIER_SOURCES="replay",
        DOSSIER_REPLAY_LATENCY_MS="1500",  # ~4 rounds of requests: ~7 s of research
        DOSSIER_VENDOR_NAME="Acme Analytics",
        DOSSIER_VENDOR_DESCRIPTION="fraud and risk analytics for payment teams",
    )
    screen = StringIO()
    child = pexpect.spawn(
        sys.executable,
        ["-m", "dossier", "research", "Stripe"],
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        dimensions=(50, 150),
        timeout=30,
    )
    child.logfile_read = screen
    try:
        child.expect_exact("ask › ")  # the prompt, under the live progress
        child.send("Who should I talk to?\r")
        child.expect_exact("basis: partial")
        child.expect_exact("Abuse Investigator")  # the job board has answered...
        child.send("Which teams are they hiring for?\r")  # ...and the research goes on
        child.expect(r"Research (completed|partial): ")
        # The revision lands when the people do: just before or just after the end.
        if "↻ revised: " not in screen.getvalue():
            child.expect_exact("↻ revised: ")
        if "[1] Patrick Collison — CEO and Founder of Stripe" not in screen.getvalue():
            child.expect_exact("Patrick Collison — CEO and Founder of Stripe")
        child.send("/quit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    text = ANSI.sub("", screen.getvalue())
    assert child.exitstatus == 3, text[-3000:]  # partial: the demo lacks some recordings

    first = text.index("you › Who should I talk to?")
    second = text.index("you › Which teams are they hiring for?")
    done = re.search(r"Research (completed|partial): Stripe", text)
    assert done is not None and first < second < done.start()  # both asked mid-run

    early = text[first:second]
    assert "Stripe › No decision makers identified yet" in early
    assert "still collecting: people" in early

    hiring = text[second : done.start()]
    assert re.search(r"Stripe › Stripe lists 2 open roles.*Fraud Operations.*\[1\]", hiring)
    assert "[1] Operations Associate, New Grad (Mexico)  https://stripe.com/jobs/" in hiring
    assert "basis: partial" in hiring

    report = text[done.start() :]
    assert "findings  7 news_article · 2 job_posting · 2 person · 1 company_profile" in report
    analysis = report[report.index("Analysis") :]
    assert "Patrick Collison" in analysis and "Sources" in analysis

    revised = text[text.index("↻ revised: “Who should I talk to?” (people arrived)") :]
    assert "Stripe › Leadership: Patrick Collison (CEO, Founder)" in revised
    assert "[1] Patrick Collison — CEO and Founder of Stripe" in revised
