# The production image: the gateway alone (partners are real systems, configured by file).
# Neither the simulated partners (`demo/` is not copied, so the wheel has no `demo` package) nor
# Faker (the `demo` extra, not installed) are in it; GraphiQL's assets are, but served only with
# HUB_DEVELOPMENT=true.
#   docker build -t alternance-hub .
#   docker run -p 8000:8000 -v $PWD/partners.toml:/etc/alternance-hub/partners.toml:ro \
#     -e HUB_CACHE_URL=redis://redis:6379/0 -e HUB_API_KEY_PEPPER=... \
#     -e HUB_DATABASE_URL=postgresql+asyncpg://hub@db/hub -e HUB_FRANCETRAVAIL_CLIENT_ID=... alternance-hub
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY adapters adapters
COPY gateway gateway
COPY resolvers resolvers
COPY sources sources
COPY identity identity
COPY observatory observatory
COPY store store
COPY reference reference
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 hub
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && ! python -c "import faker" 2>/dev/null && ! python -c "import demo" 2>/dev/null
USER hub
WORKDIR /home/hub
ENV HUB_PARTNERS_FILE=/etc/alternance-hub/partners.toml \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["alternance-hub", "serve", "--host", "0.0.0.0", "--port", "8000"]
