#!/usr/bin/env bash
# Five real peers, each in its own network namespace, joined through a bridge, with nftables
# dropping 10% of incoming UDP on every peer. Passes when every peer sees all five alive.
#
#   Tests/netns/cluster-in-namespaces.sh STARLING_BINARY WORK_DIR
#
# Exit 0: passed. Exit 77: skipped (not root, or ip/nft missing, or namespaces not permitted),
# with the reason on stdout. Anything else: failed. Traffic stays inside the namespaces it makes.
set -uo pipefail
starling=${1:?starling binary}
work=${2:?work directory}
count=5
port=7946
subnet=10.231.77
prefix="stl$$"
hub="${prefix}hub"

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v nft >/dev/null || skip "nft (nftables) is not installed; bootstrap/setup installs it"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for i in $(seq 1 $count); do ip netns del "${prefix}n$i" 2>/dev/null; done
  ip netns del "$hub" 2>/dev/null
}
trap cleanup EXIT

ip netns add "$hub" 2>/dev/null || skip "cannot create network namespaces here (ip netns add failed)"
ip -n "$hub" link add br0 type bridge && ip -n "$hub" link set br0 up && ip -n "$hub" link set lo up \
  || skip "cannot create a bridge in a namespace"

for i in $(seq 1 $count); do
  ns="${prefix}n$i"
  ip netns add "$ns"
  ip link add "v${prefix}a$i" type veth peer name "v${prefix}b$i"
  ip link set "v${prefix}a$i" netns "$ns"
  ip link set "v${prefix}b$i" netns "$hub"
  ip -n "$ns" link set "v${prefix}a$i" name eth0
  ip -n "$ns" addr add "$subnet.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$hub" link set "v${prefix}b$i" master br0
  ip -n "$hub" link set "v${prefix}b$i" up
  # 10% loss on input (netem is not available on this kernel; dropping on output makes sendto fail).
  ip netns exec "$ns" nft -f - <<NFT || skip "nftables rules cannot be loaded in a namespace"
table inet starlingloss {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport $port numgen random mod 100 < 10 counter drop
  }
}
NFT
done

mkdir -p "$work"
"$starling" authority init --dir "$work/auth" >/dev/null
for i in $(seq 1 $count); do
  dir="$work/n$i"
  id=$("$starling" keys generate --out "$dir/identity.key")
  "$starling" authority admit --dir "$work/auth" "$id" --name "ns$i" --roles peer,coordinator --out "$dir/certificate" >/dev/null
  cp "$work/auth/authority.pub" "$dir/"
done
for i in $(seq 1 $count); do
  dir="$work/n$i"
  ip netns exec "${prefix}n$i" "$starling" peer --data-dir "$dir" --listen "$subnet.$i:$port" \
    --bootstrap "$subnet.1:$port" --log-level notice 2>"$dir/peer.log" &
  pids+=($!)
done

# Every peer sees all five in a state matching the pattern.
all_five_in() {
  for i in $(seq 1 $count); do
    local n
    n=$("$starling" members --peer "$work/n$i" --json 2>/dev/null | grep -oE "\"state\":\"($1)\"" | wc -l)
    [[ $n -eq $count ]] || return 1
  done
}
alive_everywhere() { all_five_in alive; }
# After joining: nobody may be declared dead or gone under the loss (a passing suspicion, which the
# suspect refutes, is what loss is expected to cause).
none_dead() { all_five_in 'alive|suspect'; }
for _ in $(seq 1 200); do
  if alive_everywhere; then
    # Stay a while under loss: nobody may be declared dead by dropped probes.
    for _ in $(seq 1 12); do
      sleep 0.5
      none_dead || { echo "FAIL: a live peer was declared dead or dropped under 10% loss"; for j in $(seq 1 $count); do "$starling" members --peer "$work/n$j"; done; exit 1; }
    done
    echo "PASS: all $count peers alive on each, across namespaces with 10% UDP loss"
    "$starling" members --peer "$work/n1"
    dropped=0
    for j in $(seq 1 $count); do
      n=$(ip netns exec "${prefix}n$j" nft list table inet starlingloss | sed -n 's/.*packets \([0-9]*\).*/\1/p')
      dropped=$((dropped + ${n:-0}))
    done
    echo "datagrams dropped by nftables: $dropped"
    exit 0
  fi
  sleep 0.1
done
echo "FAIL: peers did not all see each other within 20 s"
for i in $(seq 1 $count); do "$starling" members --peer "$work/n$i" || tail -5 "$work/n$i/peer.log"; done
exit 1
