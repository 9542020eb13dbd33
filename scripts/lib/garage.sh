# Starting a one-node Garage from bash, for scripts/demo.sh and
# scripts/bench.sh (the Rust tests use tests/testkit/src/garage.rs).
# Source this file, then:
#
#   garage_start DIR          # config in DIR, every listener on 127.0.0.1;
#                             # sets GARAGE_PID, GARAGE_S3_URL, GARAGE_WEB_PORT,
#                             # GARAGE_S3_PORT, GARAGE_ADMIN_PORT, GARAGE_KEY_ID,
#                             # GARAGE_SECRET (one key, owner of every bucket)
#   garage_bucket NAME        # creates NAME, gives the key every right; prints its id
#   garage_website ID ALIAS   # serves bucket ID on the web endpoint as Host ALIAS
#   garage_stop               # SIGTERM, then SIGKILL after 5 s
#
# Buckets and keys go through the admin API (HTTP): a thousand buckets take
# seconds, where the CLI takes minutes. Ports: Garage's defaults
# (3900-3903) when all are free, otherwise free ones.

_garage_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
_garage_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
_garage_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

_garage_admin() { # METHOD PATH [JSON]
  curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $_GARAGE_ADMIN_TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "http://127.0.0.1:$GARAGE_ADMIN_PORT$2"
}

garage_start() {
  local dir="$1"
  local bin
  bin="$(command -v garage)" || { echo "garage is not installed: run scripts/install/garage.sh" >&2; return 1; }
  mkdir -p "$dir"
  local rpc
  if _garage_port_free 3900 && _garage_port_free 3901 && _garage_port_free 3902 && _garage_port_free 3903; then
    GARAGE_S3_PORT=3900 rpc=3901 GARAGE_WEB_PORT=3902 GARAGE_ADMIN_PORT=3903
  else
    GARAGE_S3_PORT=$(_garage_free_port) rpc=$(_garage_free_port) GARAGE_WEB_PORT=$(_garage_free_port) GARAGE_ADMIN_PORT=$(_garage_free_port)
  fi
  _GARAGE_ADMIN_TOKEN="$(_garage_hex 32)"
  _GARAGE_CONFIG="$dir/garage.toml"
  cat >"$_GARAGE_CONFIG" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(_garage_hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$GARAGE_S3_PORT"
root_domain = ".s3.garage.localhost"

[s3_web]
bind_addr = "127.0.0.1:$GARAGE_WEB_PORT"
root_domain = ".web.garage.localhost"
index = "index.html"

[admin]
api_bind_addr = "127.0.0.1:$GARAGE_ADMIN_PORT"
admin_token = "$_GARAGE_ADMIN_TOKEN"
EOF
  RUST_LOG=garage=warn "$bin" -c "$_GARAGE_CONFIG" server >"$dir/garage.log" 2>&1 &
  GARAGE_PID=$!
  local i
  for i in $(seq 300); do
    _garage_port_free "$GARAGE_ADMIN_PORT" || break
    kill -0 "$GARAGE_PID" 2>/dev/null || { tail -n 20 "$dir/garage.log" >&2; echo "Garage exited at start" >&2; return 1; }
    sleep 0.05
  done
  local node
  node="$(RUST_LOG=garage=warn "$bin" -c "$_GARAGE_CONFIG" node id -q 2>/dev/null | sed -n 1p | cut -c1-64)"
  RUST_LOG=garage=warn "$bin" -c "$_GARAGE_CONFIG" layout assign -z dc1 -c 1G "$node" >/dev/null
  RUST_LOG=garage=warn "$bin" -c "$_GARAGE_CONFIG" layout apply --version 1 >/dev/null
  for i in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GARAGE_ADMIN_PORT/health")" = 200 ] && break
    sleep 0.05
  done
  local key
  key="$(_garage_admin POST /v2/CreateKey '{"name":"bucketcors"}')" || return 1
  GARAGE_KEY_ID="$(jq -r .accessKeyId <<<"$key")"
  GARAGE_SECRET="$(jq -r .secretAccessKey <<<"$key")"
  GARAGE_S3_URL="http://127.0.0.1:$GARAGE_S3_PORT"
  for i in $(seq 300); do
    _garage_port_free "$GARAGE_S3_PORT" || break
    sleep 0.05
  done
}

garage_bucket() {
  local id="" try
  # Right after start the layout may not be in force yet: retry briefly.
  for try in $(seq 50); do
    id="$(_garage_admin POST /v2/CreateBucket "{\"globalAlias\":\"$1\"}" 2>/dev/null | jq -r .id)" && [ -n "$id" ] && [ "$id" != null ] && break
    id=""
    sleep 0.2
  done
  [ -n "$id" ] || { echo "Garage did not create bucket $1" >&2; return 1; }
  _garage_admin POST /v2/AllowBucketKey \
    "{\"bucketId\":\"$id\",\"accessKeyId\":\"$GARAGE_KEY_ID\",\"permissions\":{\"read\":true,\"write\":true,\"owner\":true}}" >/dev/null || return 1
  echo "$id"
}

garage_website() {
  _garage_admin POST "/v2/UpdateBucket?id=$1" '{"websiteAccess":{"enabled":true,"indexDocument":"index.html"}}' >/dev/null || return 1
  _garage_admin POST /v2/AddBucketAlias "{\"bucketId\":\"$1\",\"globalAlias\":\"$2\"}" >/dev/null
}

garage_stop() {
  [ -n "${GARAGE_PID:-}" ] || return 0
  if kill -0 "$GARAGE_PID" 2>/dev/null; then
    kill -TERM "$GARAGE_PID" 2>/dev/null || true
    local i
    for i in $(seq 50); do kill -0 "$GARAGE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$GARAGE_PID" 2>/dev/null || true
  fi
  wait "$GARAGE_PID" 2>/dev/null || true
  GARAGE_PID=""
}
