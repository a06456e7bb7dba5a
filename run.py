"""Ingest the bundled sample articles in data/ and serve the map on 127.0.0.1.

    python run.py [--port 5000] [--store instance/mapapp.gpkg]

The main job in one step, after `pip install -r requirements.txt` and
`npm ci` (the README's first command does all of it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mapapp.cli_progress import ProgressBar
from mapapp.errors import MapappError
from mapapp.ingest.pipeline import ingest
from mapapp.settings import load_settings

ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store",
        help="GeoPackage file or postgresql:// URL (default: MAPAPP_STORE or instance/mapapp.gpkg)",
    )
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 5000)")
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="articles to ingest")
    args = parser.parse_args(argv)
    config = load_settings({"STORE": args.store, "HOST": args.host, "PORT": args.port})
    try:
        summary = ingest(
            [args.data],
            config,
            progress=ProgressBar,
            report=lambda line: print(line, file=sys.stderr),
        )
    except MapappError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"{summary.articles} new articles ({summary.already_stored} already stored), "
        f"{summary.places} places; {len(summary.errors)} files skipped"
    )
    from mapapp.cli import upload_ingest
    from mapapp.recognition.place_search import place_search_for
    from mapapp.web import create_app
    from mapapp.web.server import serve

    app = create_app(config, place_search_for(config), ingest_files=upload_ingest(config))
    serve(app, config.host, config.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
