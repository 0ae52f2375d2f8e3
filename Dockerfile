FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY siaga ./siaga
COPY streams ./streams
COPY logistics ./logistics
COPY api ./api
COPY geo ./geo
RUN pip install --no-cache-dir . \
    && python -c "from logistics import warm_up; warm_up()" \
    && useradd --create-home siaga && mkdir -p /var/lib/siaga \
    && chown siaga /var/lib/siaga
USER siaga
ENV SIAGA_DATA_DIR=/var/lib/siaga
EXPOSE 8000
CMD ["siaga", "api"]
