# Stand-in for the official redis image: Debian's redis-server, /data owned by redis.
FROM perpbot-standin/debian:bookworm-minbase
LABEL org.perpbot.standin="true"
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; \
    dpkg-query -W -f='${Package} ${Version}\n' redis-server > /etc/perpbot-standin; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /data; \
    chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
