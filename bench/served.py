"""The app as the benchmark's counting server runs it: `app.main:create_app` wrapped so each response carries
`x-queries` (the statements that request ran). Started only with SHOUHOU_COUNT_QUERIES=1; the timed runs
serve `app.main:create_app` itself."""


def create_app():
    from app.core.db import count_queries, counting_queries
    from app.main import create_app as create_shouhou

    if not counting_queries():
        raise SystemExit("bench.served is for SHOUHOU_COUNT_QUERIES=1 only")
    return count_queries(create_shouhou())
