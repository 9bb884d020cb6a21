"""The certificate as one self-contained HTML page: jinja2, autoescaped, CSS inline, plots as data URIs."""

from __future__ import annotations

from importlib import resources

from rig.report.certificate_view import Certificate
from rig.report.recorded_text import NOT_RECORDED

TEMPLATE = "templates/certificate.html.j2"


def render_html(certificate: Certificate) -> str:
    """The certificate as one self-contained HTML page (every value autoescaped)."""
    import jinja2

    # Read through importlib.resources so an installed wheel (package data), a zip import and
    # an editable checkout all find the template the same way.
    source = resources.files("rig.report").joinpath(TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    template = env.from_string(source)
    return template.render(c=certificate, not_recorded=NOT_RECORDED)
