# Image for the support-cases service: the same image runs the Temporal worker
# (default), the API (`uvicorn api.main:app ...`) and the migrations
# (`python -m worker.migrate`); docker-compose.yml picks the command.

# The runtime dependencies exactly as uv.lock pins them, with their hashes, without the
# dev extra. This throwaway stage turns the lock into a requirements file, so uv itself
# stays out of the image. UV_VERSION: the Makefile's.
FROM python:3.11.15-slim-trixie AS requirements
ARG UV_VERSION=0.13.9
RUN PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore pip install --quiet "uv==${UV_VERSION}"
WORKDIR /lock
COPY pyproject.toml uv.lock ./
RUN uv export --frozen --no-dev --no-emit-project --format requirements.txt \
        --output-file /requirements.txt

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

# Runtime dependencies first, so that a code change does not reinstall them; pip refuses
# any file whose hash the lock does not list.
COPY --from=requirements /requirements.txt /tmp/requirements.txt
RUN pip install --require-hashes -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, installed (and byte-compiled) into site-packages. The source
# tree is removed afterwards so that imports resolve to the compiled, installed copy.
# README.m[d] copies README.md when it exists (pyproject.toml names it as the readme) and
# matches nothing otherwise.
COPY pyproject.toml README.m[d] /tmp/src/
COPY workflows /tmp/src/workflows
COPY core /tmp/src/core
COPY activities /tmp/src/activities
COPY api /tmp/src/api
COPY worker /tmp/src/worker
# .dockerignore leaves out the dev-only modules (worker/dev.py, worker/mailcatcher.py);
# the entry points must import without them and without the dev extra.
RUN pip install --no-deps /tmp/src \
    && pip check \
    && rm -rf /tmp/src \
    && cd / && python -c 'import api.main, worker.__main__, worker.migrate, worker.schedules'

# The working directory holds no code (see above); it is the app user's home.
WORKDIR /app
USER app

EXPOSE 8000
CMD ["python", "-m", "worker"]
