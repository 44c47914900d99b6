# Helpers shared by this scenario's workload and forbidden scripts.
URL=http://127.0.0.1:8080
start_webd() {
	rm -f /run/webd.pid
	webd -listen 127.0.0.1:8080 -root /srv/www -pidfile /run/webd.pid &
	WEBD=$!
	i=0
	until [ -s /run/webd.pid ] && wget -q -O /dev/null "$URL/" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 $WEBD 2>/dev/null; then
			echo "webd did not start"
			return 1
		fi
		sleep 0.1
	done
}
stop_webd() {
	kill -TERM $WEBD
	wait $WEBD
}
