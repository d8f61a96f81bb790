# tfaudit in a container, for registry audits on a cluster or in CI:
#   docker build -t tfaudit .
#   docker run --rm \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
#     -v /srv/models:/models:ro -v "$PWD/out":/results \
#     tfaudit scan /models --recursive --format jsonl --output /results/all.jsonl
#
# The analyzer runs every model parser inside bubblewrap (its own user, PID, IPC and network
# namespaces, a read-only view of /models). Creating those namespaces inside a container needs:
#   seccomp=unconfined      Docker's default seccomp profile refuses unshare(CLONE_NEWUSER)
#   apparmor=unconfined     hosts with kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu 23.10+)
#   systempaths=unconfined  bubblewrap mounts a fresh /proc; Docker's masked /proc paths forbid it
# No --privileged and no added capabilities are needed: the container still runs as an
# unprivileged user. Without these flags tfaudit still runs, falls back to plain worker processes
# and says so in every report ("without an OS sandbox"); `tfaudit sandbox check` shows which case applies.
FROM node:20-bookworm-slim AS build
WORKDIR /opt/tfaudit
ENV ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# runtime dependencies only: the CLI runs its TypeScript through tsx (a dependency), no Electron
RUN npm ci --omit=dev --ignore-scripts
COPY bin ./bin
COPY main ./main
COPY shared ./shared
COPY policies ./policies
COPY tsconfig.json README.md ./

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux coreutils ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/tfaudit /opt/tfaudit
RUN ln -s /opt/tfaudit/bin/tfaudit.mjs /usr/local/bin/tfaudit \
 && mkdir -p /models /results && chown node:node /results
USER node
WORKDIR /results
# tsx compiles on first use; its cache lives in the user's tmp dir
ENV NODE_ENV=production
ENTRYPOINT ["tfaudit"]
CMD ["--help"]
