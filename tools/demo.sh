#!/usr/bin/env bash
# make demo: moto (Cognito + Secrets Manager) on a free loopback port, a seeded pool, the
# sample events retargeted at it with real ID tokens minted by moto (tools/demo_seed.py), the
# function under `cargo lambda watch` with both entry points on, and every sample event
# invoked through `cargo lambda invoke`, printing each response and the audit line it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true
VENV=.venv
PATH="$PWD/$VENV/bin:$PATH"
DEMO=.demo
rm -rf "$DEMO" && mkdir -p "$DEMO/events"

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 "${2:-300}"); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; return 1; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

MOTO_PORT=$(free_port)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$DEMO/moto.log" 2>&1 &
pids+=($!)
wait_port "$MOTO_PORT" || { echo "moto did not start; see $DEMO/moto.log"; exit 1; }
ENDPOINT="http://127.0.0.1:$MOTO_PORT"
eval "$("$VENV/bin/python" tools/demo_seed.py "$ENDPOINT" events "$DEMO/events")"
echo "== moto at $ENDPOINT, pool $POOL_ID, app client $CLIENT_ID"
echo "   users: alice (admins,helpdesk), bob (staff), carol (admins), rooty (root), dave (admins-readonly,editors),"
echo "          erin (staff, verified email: the reset's target), newbie (staff, FORCE_CHANGE_PASSWORD);"
echo "          secrets onboarding/newbie, onboarding/carol, onboarding/bob"
echo "== $DEMO/events/: each API sample with a real ID token from moto (AdminInitiateAuth) for its caller:"
printf '%s\n' "$CALLERS" | sed 's/^/   /'

INVOKE_PORT=$(free_port)
cat >"$DEMO/function.env" <<ENV
ENTRY_POINTS=api,workflow
USER_POOL_ID=$POOL_ID
ADMIN_CLIENT_IDS=$CLIENT_ID
ADMIN_GROUPS=admins,helpdesk
SUPER_ADMIN_GROUPS=root
PASSWORD_SECRET_PREFIX=onboarding/
AWS_ENDPOINT_URL=$ENDPOINT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_EC2_METADATA_DISABLED=true
AWS_LAMBDA_LOG_FORMAT=JSON
ENV
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" --ignore-changes \
  --env-file "$DEMO/function.env" >"$DEMO/function.log" 2>&1 &
pids+=($!)
wait_port "$INVOKE_PORT" 600 || { echo "cargo lambda watch did not start; see $DEMO/function.log"; exit 1; }
echo "== function under cargo lambda watch on 127.0.0.1:$INVOKE_PORT (logs: $DEMO/function.log)"

for f in "$DEMO"/events/*.json; do
  name=$(basename "$f" .json)
  echo
  echo "### $name"
  before=$(grep -c '"event":"admin_set_user_password"' "$DEMO/function.log" || true)
  cargo lambda invoke admin-set-password --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
    --data-file "$f" --output-format json 2>&1 | "$VENV/bin/python" tools/demo_format.py | sed 's/^/response: /' || true
  for _ in $(seq 1 50); do
    now=$(grep -c '"event":"admin_set_user_password"' "$DEMO/function.log" || true)
    [ "$now" -gt "$before" ] && break
    sleep 0.1
  done
  grep '"event":"admin_set_user_password"' "$DEMO/function.log" | tail -n +"$((before + 1))" | sed 's/^/audit:    /'
done

echo
echo "== pool state now (moto):"
"$VENV/bin/python" tools/demo_state.py "$ENDPOINT" "$POOL_ID" "$CLIENT_ID"
echo
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "Services stay up (Ctrl-C stops them). From another shell, in $PWD:"
  echo "  cd $PWD && PATH=\$PWD/$VENV/bin:\$PATH cargo lambda invoke admin-set-password --invoke-address 127.0.0.1 --invoke-port $INVOKE_PORT --data-file $DEMO/events/rest-set-temporary.json"
  echo "The tokens in $DEMO/events/ expire an hour after they were minted (MAX_TOKEN_AGE_SECONDS=3600);"
  echo "rerun make demo for new ones, or mint a fresh ID token for alice (put it after 'Bearer ' in an event):"
  echo "  $PWD/$VENV/bin/python -c 'import boto3; print(boto3.client(\"cognito-idp\", endpoint_url=\"$ENDPOINT\", region_name=\"us-east-1\", aws_access_key_id=\"testing\", aws_secret_access_key=\"testing\").admin_initiate_auth(UserPoolId=\"$POOL_ID\", ClientId=\"$CLIENT_ID\", AuthFlow=\"ADMIN_USER_PASSWORD_AUTH\", AuthParameters={\"USERNAME\": \"alice\", \"PASSWORD\": \"Initial-Passw0rd!1\"})[\"AuthenticationResult\"][\"IdToken\"])'"
  wait
else
  echo "Run 'DEMO_KEEP=1 make demo' to keep moto and the function running for your own invokes."
fi
