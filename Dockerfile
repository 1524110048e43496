# One image runs any Daira service: docker run daira <service> (or DAIRA_SERVICE=<service>).
FROM python:3.11-slim AS build
WORKDIR /app
COPY requirements.txt requirements-dev.txt ./
RUN python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir -r requirements.txt \
 && python -m venv /tools \
 && /tools/bin/pip install --no-cache-dir grpcio-tools==1.85.1 mypy-protobuf==5.1.0
COPY protos ./protos
RUN mkdir gen && /tools/bin/python -m grpc_tools.protoc -Iprotos \
      --python_out=gen --grpc_python_out=gen $(find protos -name '*.proto')

FROM python:3.11-slim
RUN useradd --system --uid 10001 daira
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build /app/gen ./gen
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
ENV PATH=/venv/bin:$PATH PYTHONPATH=/app:/app/gen PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER daira
ENTRYPOINT ["sh", "-c", "exec python -m services.\"${1:-$DAIRA_SERVICE}\"", "--"]
