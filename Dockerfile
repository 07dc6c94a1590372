# The demo service's image, for docker-compose.yml: Deno with the project's npm
# packages installed at build time, so the container starts without a download.
FROM denoland/deno:2.9.6

WORKDIR /app
RUN chown deno:deno /app
USER deno

COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno lib ./lib
COPY --chown=deno:deno main.ts ./
# Installs from the lockfile (deno.json's allowScripts lets embedded-postgres's
# install script link its binaries; with DATABASE_URL set, lib/database.ts never loads them).
RUN deno install --frozen

ENV HOST=0.0.0.0 PORT=9000
EXPOSE 9000
CMD ["run", "-A", "main.ts"]
