"""The drill report page: `render_html(report)` and `write_report(report, folder)`."""

from ._page import render_html, write_report

__all__ = ["render_html", "write_report"]
