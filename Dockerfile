# Image for the support-cases service: the same image runs the Temporal worker
# (default), the API (`uvicorn api.main:app ...`) and the migrations
# (`python -m worker.migrate`); docker-compose.yml picks the command.
FROM python:3.11.15-slim-trixie

# PYTHONDONTWRITEBYTECODE is deliberately left unset: pip compiles the installed
# packages to .pyc at build time, and the workflow sandbox re-imports workflow modules
# for every run, so cached bytecode saves worker CPU.
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && install -d -o app -g app /app

# Runtime dependencies first, from pyproject.toml, so that a code change does not
# reinstall them (no dev extras). README.m[d] copies README.md when it exists
# (pyproject.toml names it as the readme) and matches nothing otherwise.
COPY pyproject.toml README.m[d] /tmp/src/
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("/tmp/src/pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, installed (and byte-compiled) into site-packages. The source
# tree is removed afterwards so that imports resolve to the compiled, installed copy.
COPY workflows /tmp/src/workflows
COPY core /tmp/src/core
COPY activities /tmp/src/activities
COPY api /tmp/src/api
COPY worker /tmp/src/worker
RUN pip install --no-deps /tmp/src \
    && pip check \
    && rm -rf /tmp/src

# The working directory holds no code (see above); it is the app user's home.
WORKDIR /app
USER app

EXPOSE 8000
CMD ["python", "-m", "worker"]
