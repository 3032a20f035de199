"""The property report (docs/reports.md): a month's or a quarter's figures of one property gathered from the
domains (inspections, surveys, the service desk when registered) into one Struct, and the PDF made from it by
the worker. It composes domains, which never import each other, so it sits above them, beside bootstrap."""
