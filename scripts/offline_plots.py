"""``dvc plots show`` / ``dvc plots diff`` for a machine without the network.

DVC's page (``dvc_plots/index.html``) loads Vega, Vega-Lite and Vega-Embed from a CDN, so offline it stays
blank. This runs the same ``dvc plots`` command with an HTML template (``--html-template``) that holds those
libraries inline instead: the JavaScript bundle of the pinned ``vl-convert-python`` package (pyproject.toml),
so the page it writes needs nothing from the network and can be copied and opened anywhere::

    python scripts/offline_plots.py                      # dvc plots show   -> dvc_plots/index.html
    python scripts/offline_plots.py diff main            # dvc plots diff main
    python scripts/offline_plots.py show -o /tmp/plots   # any other dvc plots arguments pass through
    python scripts/offline_plots.py --write-template offline.html   # only the template, for
                                                         # dvc plots show --html-template offline.html
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

VEGA_LITE = "v5.21"  # the major version of DVC's and .dvc/plots/'s templates ($schema vega-lite v5)
PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")  # what DVC fills in a page template
COMMANDS = ("show", "diff")

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>DVC plots</title>
    <script type="text/javascript">
BUNDLE
    </script>
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def page_template(bundle: str) -> str:
    """DVC's page template with ``bundle`` (JavaScript defining ``vegaEmbed``) inline in place of its
    ``{scripts}``, the CDN ``<script src>`` tags, which DVC then has nowhere to put."""
    if "</script" in bundle.lower():
        raise ValueError("the bundle holds '</script', which would end its inline <script> early")
    if any(p in bundle for p in PLACEHOLDERS):
        raise ValueError(f"the bundle holds one of DVC's placeholders {PLACEHOLDERS}")
    return PAGE.replace("BUNDLE", bundle)


def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script that sets ``window.vegaEmbed`` (no network needed)."""
    import vl_convert

    return str(vl_convert.javascript_bundle(vl_version=VEGA_LITE))


def dvc_arguments(argv: list[str]) -> list[str]:
    """The ``dvc plots`` arguments: ``show`` unless the first one is a subcommand."""
    return argv if argv[:1] and argv[0] in COMMANDS else ["show", *argv]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write-template"] and len(argv) == 2:
        Path(argv[1]).write_text(page_template(vega_bundle()), encoding="utf-8")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "page.html"
        template.write_text(page_template(vega_bundle()), encoding="utf-8")
        cmd = [sys.executable, "-m", "dvc", "plots", *dvc_arguments(argv), "--html-template", str(template)]
        return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
