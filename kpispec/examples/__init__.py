"""The sample data of the example project in ``specs/``: ``python -m kpispec.examples``.

Each domain module (``web``, ``shop``, ``social``, ``email``, ``cx``) has a
``generate(out: Path) -> list[Path]`` that writes its tables into ``out`` (specs/data/)
deterministically, seeded from :data:`kpispec.examples.season.SEED`.
"""
