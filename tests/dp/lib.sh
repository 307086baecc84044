# tests/dp/lib.sh — helpers the dp scripts share; source it.

# dp_conf FILE FILE_PREFIX WORKERS EXCHANGE EPOCH_MS DRAIN_WAIT_S [PORTS]: the config the
# dp scripts run obscura-dp with: two sensors (east 198.18.0.0/20, west 198.18.16.0/20)
# as tests/dp/gen_pcap.py addresses them, 1024 source records a slot (so 5000 sources
# force early swaps).  PORTS: the dataplane.ports block, YAML lines indented by two
# (default none: replay).
dp_conf() {
	cat > "$1" <<EOC
dataplane:
  workers: $3
  hugepages: no
  file_prefix: $2
${7:-}
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/20]
    - name: west
      prefixes: [198.18.16.0/20]
exchange:
  path: $4
  epoch_ms: $5
  src_capacity: 1024
  drain_wait_s: $6
EOC
}
