# Eventyard in a container: `docker build -t eventyard .` then
#   docker run -p 4566:4566 -v eventyard-data:/data eventyard
# Other containers reach it by its name: add that name to EVENTYARD_ALLOWED_HOSTS (the server
# refuses unknown Host headers) and set EVENTYARD_PUBLIC_URL to the URL they use, so queue URLs and
# SNS links point there, e.g. -e EVENTYARD_ALLOWED_HOSTS=eventyard -e EVENTYARD_PUBLIC_URL=http://eventyard:4566
FROM python:3.12-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY eventyard ./eventyard
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 eventyard && mkdir /data && chown eventyard /data
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER eventyard
WORKDIR /home/eventyard
ENV EVENTYARD_DATA_DIR=/data
VOLUME /data
EXPOSE 4566
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:4566/_eventyard/health', timeout=2).status != 200)"]
# Binds every interface inside the container; the Host allow-list still guards against DNS rebinding.
ENTRYPOINT ["eventyard", "serve", "--host", "0.0.0.0", "--port", "4566"]
