# syntax=docker/dockerfile:1
# dsctl worker image: build the TypeScript in one stage, run the compiled JavaScript as a
# non-root user in the next. git is installed because the worker clones and fetches with it.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY vendor ./vendor
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    DSCTL_DATA_DIR=/var/lib/dsctl \
    DSCTL_LISTEN=0.0.0.0:8080
COPY --from=build /app/package.json ./
COPY --from=build /app/vendor ./vendor
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY manifests-example ./manifests-example
RUN mkdir -p /var/lib/dsctl && chown node:node /var/lib/dsctl
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/dsctl.js", "worker"]
