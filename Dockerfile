# tenant-gateway: one Node 20 process serving /tenant (GraphQL) and /_/api/4 (REST).
# TypeScript runs directly through tsx (a production dependency): there is no build step, so
# the image is production dependencies + sources + migrations.

# Stage 1: production dependencies only (no test peers, no compiler, no linters).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Stage 2: the runtime image.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY drizzle ./drizzle
COPY src ./src
# The embedded database and its generated encryption key live in /data (unused with DATABASE_URL).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
# No curl in slim images: Node's fetch probes readiness (the database answers).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and receives SIGTERM itself: in-flight requests finish, the database closes.
CMD ["node", "--import", "tsx", "src/main.ts"]
