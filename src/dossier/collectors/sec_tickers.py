"""SEC's company list (``company_tickers.json``): which CIK a name or a ticker is.

Read by resolution (who the company is) and by the SEC collector (the CIK's URL form);
kept out of both so neither depends on the other. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dossier.core.types import normalize_name

TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"


def cik10(cik: str | int) -> str:
    """``1045810`` -> ``"0001045810"`` (SEC's URL form). Raises ValueError if not a CIK."""
    digits = str(cik).strip().upper().removeprefix("CIK")
    if not digits.isdigit() or len(digits) > 10:
        raise ValueError(f"not a CIK: {cik!r}")
    return digits.zfill(10)


@dataclass(frozen=True)
class SecCompany:
    cik: str
    tickers: tuple[str, ...]
    title: str


@dataclass(frozen=True)
class TickerMatch:
    company: SecCompany | None
    by: Literal["title", "ticker"] | None
    candidates: tuple[SecCompany, ...] = ()


def resolve_from_tickers(payload: object, name_or_ticker: str) -> TickerMatch:
    """Match a name (normalised title) or ticker in ``company_tickers.json``.

    One company (share classes of one CIK are one company) -> ``company``; several that
    match differently -> ``candidates`` only. Raises ValueError on a foreign payload.
    """
    if not isinstance(payload, dict):
        raise ValueError("not a company_tickers payload")
    by_cik: dict[str, SecCompany] = {}
    for row in payload.values():
        if not isinstance(row, dict) or "cik_str" not in row:
            continue
        cik = cik10(row["cik_str"])
        known = by_cik.get(cik)
        ticker = str(row.get("ticker") or "").upper()
        tickers = (*known.tickers, ticker) if known else (ticker,)
        by_cik[cik] = SecCompany(cik, tuple(t for t in tickers if t), str(row.get("title") or ""))
    key = normalize_name(name_or_ticker)
    wanted_ticker = name_or_ticker.strip().lstrip("$").upper()
    titled = [c for c in by_cik.values() if normalize_name(c.title) == key]
    tickered = [c for c in by_cik.values() if wanted_ticker in c.tickers]
    if len(titled) == 1 and (not tickered or tickered == titled):
        return TickerMatch(titled[0], "title")
    if not titled and len(tickered) == 1:
        return TickerMatch(tickered[0], "ticker")
    both = list(dict.fromkeys(titled + tickered))
    return TickerMatch(None, None, tuple(both))
