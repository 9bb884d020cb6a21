"""The certificate as an A4 PDF (reportlab): "page i of n", tables that split, plots at text width."""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rig.report.certificate_view import Certificate
from rig.report.measurement_view import ALERT_COLOUR, Fact
from rig.report.recorded_text import NOT_RECORDED

_FONTS: dict[str, str] = {}


def _fonts() -> dict[str, str]:
    """Register DejaVu (shipped with matplotlib) once: the base-14 PDF fonts lack −, ≤, → and Greek."""
    if _FONTS:
        return _FONTS
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = {
        "regular": ("CertSans", "DejaVuSans.ttf"),
        "bold": ("CertSans-Bold", "DejaVuSans-Bold.ttf"),
        "italic": ("CertSans-Oblique", "DejaVuSans-Oblique.ttf"),
        "bolditalic": ("CertSans-BoldOblique", "DejaVuSans-BoldOblique.ttf"),
        "mono": ("CertMono", "DejaVuSansMono.ttf"),
    }
    try:
        for face, (name, filename) in faces.items():
            pdfmetrics.registerFont(TTFont(name, str(ttf / filename)))
            _FONTS[face] = name
    except (OSError, TTFError):
        # Without them the base-14 fonts still print every digit and unit but a few signs (−, ≤).
        _FONTS.clear()
        _FONTS.update(
            regular="Helvetica",
            bold="Helvetica-Bold",
            italic="Helvetica-Oblique",
            bolditalic="Helvetica-BoldOblique",
            mono="Courier",
        )
        return _FONTS
    # <b> and <i> inside a paragraph pick the family's faces.
    addMapping("CertSans", 0, 0, _FONTS["regular"])
    addMapping("CertSans", 1, 0, _FONTS["bold"])
    addMapping("CertSans", 0, 1, _FONTS["italic"])
    addMapping("CertSans", 1, 1, _FONTS["bolditalic"])
    return _FONTS


def _esc(text: str) -> str:
    """Text for a reportlab paragraph, whose markup is XML-like: ``<script>`` must stay text."""
    return html.escape(text, quote=False)


def _numbered_canvas(run_id: str, issued_date: str) -> Callable[..., Any]:
    """A canvas class that writes "page i of n" on every page once it knows n."""
    from reportlab.pdfgen.canvas import Canvas

    fonts = _fonts()

    class NumberedCanvas(Canvas):
        """Defers each page until the end so the footer can name the page count."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []
            # The PDF's dates say when the certificate was issued, not when the bytes were made,
            # so the same run and the same time of issue give the same file.
            self.setDateFormatter(lambda *_: issued_date)

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._saved.append(dict(self.__dict__))
            # What Canvas.showPage does after emitting a page: start the next (undeclared in the stubs).
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._saved)
            for number, state in enumerate(self._saved, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            from reportlab.lib.pagesizes import A4
            from reportlab.lib.units import mm

            self.saveState()
            self.setFont(fonts["regular"], 8)
            self.setFillGray(0.35)
            self.drawString(18 * mm, 10 * mm, f"Leak-test certificate · run {run_id}")
            self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate as an A4 PDF: verdict on page 1, tables that split, plots at text width."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import (
        Flowable,
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    fonts = _fonts()
    c = certificate
    body = ParagraphStyle("body", fontName=fonts["regular"], fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
    label = ParagraphStyle("label", parent=body, textColor=colors.HexColor("#555555"))
    mono = ParagraphStyle("mono", parent=body, fontName=fonts["mono"], fontSize=8.5)
    head = ParagraphStyle("head", parent=body, fontName=fonts["bold"], fontSize=9)
    title = ParagraphStyle(
        "title", parent=body, fontName=fonts["bold"], fontSize=20, leading=24, spaceAfter=8
    )
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=fonts["bold"], fontSize=13, leading=16, spaceBefore=12, spaceAfter=4
    )
    h3 = ParagraphStyle(
        "h3", parent=body, fontName=fonts["bold"], fontSize=11, leading=14, spaceBefore=8, spaceAfter=3
    )
    verdict_style = ParagraphStyle(
        "verdict",
        parent=body,
        fontName=fonts["bold"],
        fontSize=30,
        leading=36,
        textColor=colors.white,
        alignment=TA_CENTER,
    )
    reason = ParagraphStyle("reason", parent=body, fontSize=12, leading=15, spaceBefore=6)
    alert_hex = ALERT_COLOUR

    doc = SimpleDocTemplate(
        io.BytesIO(),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Leak-test certificate, run {c.run_id}",
        author=c.generator,
        subject=f"{c.verdict}: {c.reason}",
        creator=c.generator,
        invariant=1,
    )
    width = doc.width

    def para(text: str, style: ParagraphStyle = body, alert: bool = False) -> Paragraph:
        markup = _esc(text)
        if alert:
            markup = f'<font color="{alert_hex}"><b>{markup}</b></font>'
        return Paragraph(markup, style)

    grid: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#dddddd")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        # Narrower than reportlab's 6 pt: a date (2026-03-01) fits a seventh of the width.
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]

    def facts(rows: Sequence[Fact]) -> Table:
        data = [[para(r.label, label), para(r.value, mono if r.mono else body, r.alert)] for r in rows]
        table = Table(data, colWidths=[0.3 * width, 0.7 * width])
        table.setStyle(TableStyle(grid))
        return table

    def table(
        header: Sequence[str], rows: Sequence[Sequence[Paragraph]], fractions: Sequence[float]
    ) -> Table:
        data: list[list[Paragraph]] = [[para(h, head) for h in header], *[list(r) for r in rows]]
        # repeatRows: a table split across pages keeps its header on the next page.
        out = Table(data, colWidths=[f * width for f in fractions], repeatRows=1)
        out.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))]))
        return out

    def boxed(text: str) -> Table:
        box = Table([[para(text, body, alert=True)]], colWidths=[width])
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor(ALERT_COLOUR)),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fdecea")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        return box

    story: list[Flowable] = [para("Leak-test certificate", title)]
    # As wide as the verdict needs (INCONCLUSIVE is long), at least half the text width.
    verdict_width = stringWidth(c.verdict, fonts["bold"], verdict_style.fontSize) + 30
    banner_width = min(width, max(0.5 * width, verdict_width))
    banner = Table([[para(c.verdict, verdict_style)]], colWidths=[banner_width], hAlign="LEFT")
    banner.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(c.verdict_colour)),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    story += [banner, para(c.reason, reason)]

    story += [para("What was tested", h2), facts(c.tested)]
    story += [para("By whom, with what", h2), facts(c.provenance)]
    story.append(para("Instruments", h3))
    if c.instruments:
        rows = [[para(i.name), para(i.model), para(i.identity, mono), para(i.serves)] for i in c.instruments]
        story.append(
            table(["instrument", "model", "identity (incl. serial)", "serves"], rows, (0.14, 0.13, 0.4, 0.33))
        )
    else:
        story.append(para(NOT_RECORDED))
    story.append(para("Calibrations", h3))
    if c.calibrations:
        rows = [
            [
                para(k.item),
                para(k.instrument),
                para(k.certificate),
                para(k.date),
                para(k.due),
                para(k.uncertainty),
                para(k.status, alert=k.alert),
            ]
            for k in c.calibrations
        ]
        header = ["channel or leak", "instrument", "certificate", "date", "due", "uncertainty", "status"]
        story.append(table(header, rows, (0.12, 0.11, 0.26, 0.13, 0.13, 0.14, 0.11)))
    else:
        story.append(para(NOT_RECORDED))
    if c.override:
        story += [Spacer(1, 4), boxed(c.override)]

    story.append(para("Measurements", h2))
    if not c.measurements:
        story.append(para("No measurement was recorded."))
    for m in c.measurements:
        heading = Paragraph(f'{_esc(m.name)}: <font color="{m.outcome_colour}">{_esc(m.outcome)}</font>', h3)
        story.append(heading)
        if m.refusal:
            story += [boxed(m.refusal), Spacer(1, 4)]
        story.append(facts(m.rows))
        if m.e2930:
            story += [Spacer(1, 3), para(m.e2930, body, alert=m.e2930_alert)]
        if m.budget:
            rows = [
                [
                    para(b.component, head if b.total else body),
                    para(b.value, head if b.total else body),
                    para(b.relative, head if b.total else body),
                ]
                for b in m.budget
            ]
            story += [
                Spacer(1, 4),
                table(
                    ["uncertainty budget (standard uncertainties)", "Pa·m³/s", "of the value"],
                    rows,
                    (0.6, 0.22, 0.18),
                ),
            ]
        if m.plot_png:
            from reportlab.lib.utils import ImageReader

            reader = ImageReader(io.BytesIO(m.plot_png))
            px_w, px_h = reader.getSize()
            image = Image(io.BytesIO(m.plot_png), width=width, height=width * px_h / px_w)
            # The plot and its caption stay together; both fit on one page by construction.
            story.append(KeepTogether([Spacer(1, 6), image, para(m.plot_caption, small)]))

    if c.comparisons:
        story.append(para("Before and after", h2))
        story += [para("• " + line) for line in c.comparisons]

    story += [para("End of the run", h2), facts(c.ending)]
    story += [para("Integrity", h2), facts(c.integrity), Spacer(1, 4), para(c.verify_hint)]
    story += [Spacer(1, 10), para(f"{c.generator} · issued {c.issued}", small)]

    issued = datetime.fromisoformat(c.issued)
    offset = issued.utcoffset()
    minutes_east = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes_east >= 0 else "-"
    pdf_date = f"D:{issued:%Y%m%d%H%M%S}{sign}{abs(minutes_east) // 60:02d}'{abs(minutes_east) % 60:02d}'"
    doc.build(story, canvasmaker=_numbered_canvas(c.run_id, pdf_date))
    buffer = doc.filename
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()
