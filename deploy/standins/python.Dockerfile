# Stand-in for the official python slim image: Debian's Python 3.11 as a virtual environment
# at /usr/local, so `python`, `pip` and site-packages are where the official image has them.
FROM perpbot-standin/debian:bookworm-minbase
LABEL org.perpbot.standin="true"
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates; \
    dpkg-query -W -f='${Package} ${Version}\n' python3.11 > /etc/perpbot-standin; \
    rm -rf /var/lib/apt/lists/*; \
    python3 -m venv /usr/local; \
    /usr/local/bin/python -c 'import sys; assert sys.prefix == "/usr/local", sys.prefix'
# This machine's CA bundle, for pip only (see build.sh); the official image needs none.
COPY host-ca-bundle.crt /etc/ssl/certs/perpbot-standin-host-ca.crt
ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/perpbot-standin-host-ca.crt
CMD ["python3"]
