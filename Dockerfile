# syntax=docker/dockerfile:1
# edge-channel image (README "Running in production"): the build stage compiles and packs the
# package exactly as `npm pack` ships it; the runtime stage installs that package with production
# dependencies only and runs it as the unprivileged `node` user.
#   docker build -t edge-channel .        (or: docker compose up -d, with compose.yaml)
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json config.example.yaml config.schema.json LICENSE README.md ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY protocols ./protocols
COPY deploy ./deploy
# prepack builds dist/ from tsconfig.build.json (no tests: test/ is not copied) and adds the
# lockfile as npm-shrinkwrap.json, so the runtime install is exact. .ci/image-build runs these
# build-stage lines as written (no container daemon in CI), so keep them relative to WORKDIR.
RUN npm pack --silent && mkdir pkg && tar -xzf edge-channel-*.tgz -C pkg --strip-components=1

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/edge-channel
COPY --from=build /src/pkg ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY deploy/docker/config.yaml /etc/edge-channel/config.yaml
RUN mkdir -p /var/lib/edge-channel && chown node:node /var/lib/edge-channel
USER node
ENV EDGE_CONFIG=/etc/edge-channel/config.yaml
VOLUME ["/var/lib/edge-channel"]
EXPOSE 5046/tcp 5046/udp 9464/tcp
# liveness from the health listener the config turns on (http.port 9464); node, as slim has no curl
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/edge-channel/bin/edge-channel.js"]
CMD ["start"]
