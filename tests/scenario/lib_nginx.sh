# lib_nginx.sh - a private nginx (Debian's /usr/sbin/nginx) serving a
# directory as a static tiles host; source it after lib.sh, never run it.
#
#   start_nginx ROOT [PREFIX]   nginx on a free loopback port serving the
#                               directory ROOT at /PREFIX/ (default
#                               "ledger"); sets NGINX_URL (ending in "/"),
#                               NGINX_PID, NGINX_LOG (the access log: one
#                               line "STATUS URI" per request)
#   stop_nginx                  it and its workers exit (within
#                               wait_for's 30 s), as the EXIT trap stops
#                               them (nginx_kill)
#
# Everything nginx writes (config, pid, logs, temp files) is under
# $T/nginx; the EXIT trap stops it. The configuration is the one
# docs/operations.md (6a.1) shows for a static tiles host: the
# checkpoint as text/plain, no-cache; full tiles immutable; partial
# tiles short-lived.
# Skips (77) when nginx is not installed.

NGINX_PID=
NGINX_URL=
NGINX_LOG=
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

nginx_kill() {
	[ -n "$NGINX_PID" ] || return 0
	# TERM: the master stops its workers, then exits; a KILLed master
	# leaves them serving its port, orphaned, after the test
	kill -TERM "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}

# source it after lib_serve.sh (when used): this trap calls that one's
nginx_cleanup() {
	nginx_kill
	if declare -F serve_cleanup >/dev/null; then
		serve_cleanup
	else
		scn_cleanup
	fi
}
trap nginx_cleanup EXIT

# nginx_conf ROOT PREFIX PORT: the configuration, on stdout
nginx_conf() {
	local root=$1 prefix=$2 port=$3 dir=$T/nginx
	# the master runs as this user; as root its workers would become
	# "nobody", who cannot read the test's 0700 directory
	[ "$(id -u)" -eq 0 ] && echo "user root;"
	cat <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	log_format st '\$status \$uri';
	access_log $dir/access.log st;
	types { }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port;
		server_name localhost;
		location = /$prefix/checkpoint {
			alias $root/checkpoint;
			default_type "text/plain; charset=utf-8";
			add_header Cache-Control "no-cache";
		}
		location ~ ^/$prefix/(tile/.*\.p/[0-9]+)\$ {
			alias $root/\$1;
			add_header Cache-Control "max-age=60";
		}
		location /$prefix/ {
			alias $root/;
			add_header Cache-Control "public, max-age=31536000, immutable";
		}
	}
}
EOF
}

# start_nginx ROOT [PREFIX]: nginx on a free loopback port serving ROOT
# at /PREFIX/. The port is one the kernel just handed out and released;
# another process may take it first, so a bind failure picks another.
start_nginx() {
	local root=$1 prefix=${2:-ledger} dir=$T/nginx port try
	[ -x "$NGINX_BIN" ] || skip "nginx not installed ($NGINX_BIN)"
	case $root in /*) ;; *) root=$PWD/$root ;; esac
	mkdir -p "$dir"
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
		nginx_conf "$root" "$prefix" "$port" >"$dir/nginx.conf"
		: >"$dir/error.log"
		"$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
			>"$dir/stdout" 2>&1 &
		NGINX_PID=$!
		# up when it answers; gone when the port was taken
		if wait_for eval 'curl -s -o /dev/null "http://127.0.0.1:$port/" ||
			! kill -0 "$NGINX_PID" 2>/dev/null'; then
			if kill -0 "$NGINX_PID" 2>/dev/null; then
				NGINX_URL=http://127.0.0.1:$port/$prefix/
				NGINX_LOG=$dir/access.log
				ok
				return 0
			fi
		fi
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=
		grep -q 'Address already in use' "$dir/error.log" "$dir/stdout" ||
			fail "nginx did not start: $(cat "$dir/error.log" "$dir/stdout")"
	done
	fail "nginx: no free port in 10 tries"
}

# stop_nginx: nginx_kill, then no worker of it is left (within 30 s).
stop_nginx() {
	local workers
	[ -n "$NGINX_PID" ] || return 0
	workers=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
	[ -n "$workers" ] || fail "nginx has no worker"
	nginx_kill
	wait_for eval "! kill -0 $workers 2>/dev/null" ||
		fail "nginx's workers ($workers) still run after it exited"
	ok
}
