#!/usr/bin/env bash
# Scans a bastiond with testssl.sh (Debian's `testssl.sh` package, 3.0.x) and prints the findings
# above INFO by severity.
#
#   Tools/measure/testssl-bastiond.sh [--bastiond PATH] [--dev-certs] [--keep-output DIR]
#
# Starts bastiond on a free loopback port in a temporary data directory, scans it, stops it. The
# server gets a certificate as an operator would bring one (made here with openssl: an EC P-256
# leaf for localhost from a CA of its own, with a CRL distribution point), and testssl.sh trusts
# that CA (`--add-ca`). `--dev-certs` scans `bastiond --dev`'s development certificates instead;
# those name no CRL or OCSP responder, which testssl.sh rates HIGH, and their CA is not one
# testssl.sh knows.
# bastiond refuses any ClientHello without ALPN `bastion/1` (docs/TLS.md), so a stock testssl.sh
# sees no TLS server at all. The script therefore runs a copy of testssl.sh, patched in two places
# so that every handshake it makes offers ALPN `bastion/1`: the `openssl s_client` calls get
# `-alpn bastion/1`, and its own socket ClientHellos carry a `bastion/1` ALPN extension where they
# would otherwise carry NPN. Everything else (protocols, ciphers, curves, certificate, the
# vulnerability checks) is testssl.sh's own.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bastiond="$root/.build/debug/bastiond"
keep=""
dev_certs=no
while [[ $# -gt 0 ]]; do
    case "$1" in
        --bastiond) bastiond=$2; shift 2 ;;
        --dev-certs) dev_certs=yes; shift ;;
        --keep-output) keep=$2; shift 2 ;;
        *) sed -n '2,5p' "$0" | sed 's/^# //' >&2; exit 64 ;;
    esac
done
command -v testssl > /dev/null || { echo "testssl.sh is missing: apt-get install testssl.sh" >&2; exit 1; }
[[ -x "$bastiond" ]] || { echo "no bastiond at $bastiond (swift build --product bastiond)" >&2; exit 1; }

work=$(mktemp -d /tmp/bastion-testssl-XXXXXX)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
    if [[ -n "$keep" ]]; then mkdir -p "$keep" && cp "$work"/testssl.* "$keep"/ 2> /dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The patched copy; each patch is checked, so a testssl.sh update that moves the code fails loudly.
patched="$work/testssl"
cp "$(command -v testssl)" "$patched"
python3 - "$patched" << 'PATCH'
import sys
path = sys.argv[1]
text = open(path).read()
alpn = "00, 10, 00, 0c, 00, 0a, 09, 62, 61, 73, 74, 69, 6f, 6e, 2f, 31"  # ALPN: "bastion/1"
patches = [
    # socket ClientHellos: ALPN bastion/1 instead of NPN when the caller sets neither
    ('''               all_extensions+="$extension_next_protocol"''',
     f'''               all_extensions+="{alpn}"'''),
    # openssl s_client: offer bastion/1 unless the call names its own ALPN
    ('''s_client_options() {
     local options=" $1"''',
     '''s_client_options() {
     local options=" $1"
     [[ " $options " =~ " -alpn " ]] || [[ " $options " =~ " -ssl" ]] || options+=" -alpn bastion/1"'''),
    # the ALPN probes ask for bastion/1 only
    ('''declare -r ALPN_PROTOs="h2 spdy/3.1 http/1.1 grpc-exp h2-fb spdy/1 spdy/2 spdy/3 stun.turn stun.nat-discovery webrtc c-webrtc ftp"''',
     '''declare -r ALPN_PROTOs="bastion/1"'''),
]
for old, new in patches:
    if text.count(old) != 1:
        sys.exit(f"testssl.sh changed; cannot patch: {old.splitlines()[0]!r}")
    text = text.replace(old, new)
open(path, "w").write(text)
PATCH
chmod +x "$patched"

certificates=(--dev)
trust=()
if [[ "$dev_certs" == no ]]; then
    certs="$work/certs"
    mkdir -p "$certs"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=Bastion scan CA" \
        -keyout "$certs/ca-key.pem" -out "$certs/ca.pem" -addext "basicConstraints=critical,CA:true" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2> /dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$certs/server-key.pem" -out "$certs/server.csr" 2> /dev/null
    cat > "$certs/server.ext" << 'EXT'
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
crlDistributionPoints=URI:http://localhost/bastion-scan.crl
EXT
    openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca-key.pem" -CAcreateserial \
        -days 90 -extfile "$certs/server.ext" -out "$certs/server.pem" 2> /dev/null
    certificates=(--cert "$certs/server.pem" --key "$certs/server-key.pem")
    trust=(--add-ca "$certs/ca.pem")
fi

"$bastiond" "${certificates[@]}" --data-dir "$work/data" --port 0 --port-file "$work/port" --admin-socket none \
    --log-level error > "$work/bastiond.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do [[ -s "$work/port" ]] && break; sleep 0.2; done
[[ -s "$work/port" ]] || { echo "bastiond did not start; its log:" >&2; cat "$work/bastiond.log" >&2; exit 1; }
port=$(cat "$work/port")

echo "==> testssl.sh $(dpkg-query -W -f='${Version}' testssl.sh 2> /dev/null || echo '?') against bastiond on 127.0.0.1:$port"
"$patched" --quiet --color 0 --warnings batch --ip one --openssl-timeout 10 ${trust[@]+"${trust[@]}"} \
    --jsonfile "$work/testssl.json" --logfile "$work/testssl.log" "localhost:$port" > /dev/null 2>&1 || true
[[ -s "$work/testssl.json" ]] || { echo "testssl.sh wrote no results; see its log" >&2; cat "$work/testssl.log" >&2 || true; exit 1; }

python3 - "$work/testssl.json" << 'SUMMARY'
import json, sys
findings = json.load(open(sys.argv[1]))
order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "INFO", "OK", "DEBUG"]
counts = {}
for f in findings:
    counts[f["severity"]] = counts.get(f["severity"], 0) + 1
print("findings by severity: " + ", ".join(f"{s} {counts[s]}" for s in order if s in counts))
for f in sorted(findings, key=lambda f: order.index(f["severity"]) if f["severity"] in order else 99):
    if f["severity"] in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN"):
        print(f'  {f["severity"]:8} {f["id"]}: {f["finding"]}')
for key in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "ALPN", "FS_ECDHE_curves", "cert_keySize",
            "cert_signatureAlgorithm", "cipher_order", "heartbleed", "CCS", "ticketbleed", "ROBOT",
            "secure_renego", "secure_client_renego", "CRIME_TLS", "POODLE_SSL", "fallback_SCSV", "SWEET32",
            "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4"):
    for f in findings:
        if f["id"] == key:
            print(f'  {f["severity"]:8} {key}: {f["finding"]}')
above_low = [f for f in findings if f["severity"] in ("CRITICAL", "HIGH", "MEDIUM")]
print(f"{len(above_low)} finding(s) above LOW")
sys.exit(1 if above_low else 0)
SUMMARY
