# syntax=docker/dockerfile:1
# Notify Desk: the API and the worker are this one image; ROLE chooses (api, worker or all).

# --- build: install everything from the lockfile, compile TypeScript
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
RUN npm run build

# --- runtime dependencies only (the embedded PostgreSQL is not needed: DATABASE_URL is set)
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- run as a non-root user, node itself as PID 1's child of tini (signals reach it)
FROM node:20-bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# HOST: every interface, or the published port forwards to nothing (the default binds loopback).
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# `create-admin` on the PATH: the compiled CLI (the image has no compiler for `npm run create-admin`).
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli/create-admin.js "$@"\n' > /usr/local/bin/create-admin \
  && chmod 755 /usr/local/bin/create-admin
USER node
EXPOSE 4000
# Through the container's own address, as a client reaches it: a server bound to loopback fails it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "dist/src/cli/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
