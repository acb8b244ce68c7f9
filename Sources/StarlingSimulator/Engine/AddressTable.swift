import StarlingMembership

/// Address → node index, for the engine's hot path: open addressing over 16-byte slots (a 64-bit
/// hash of the address and the index), so 10,000 nodes fit in about 512 KB and a lookup costs one
/// probe sequence plus one comparison with the node's address. A hash collision only costs a probe.
struct AddressTable {
    private var slots: [(hash: UInt64, index: Int32)] = Array(repeating: (0, -1), count: 64)
    private var count = 0

    /// FNV-1a over the host's UTF-8 and the port, finished with a SplitMix64 round.
    @inline(__always)
    static func hash(_ address: PeerAddress) -> UInt64 {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        var host = address.host
        host.withUTF8 { bytes in
            for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        return SeedStreams.mix(value ^ UInt64(address.port))
    }

    /// The index of `address`, given every node's address (to confirm a match).
    @inline(__always)
    func index(of address: PeerAddress, addresses: [PeerAddress]) -> Int? {
        let hash = Self.hash(address)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry.index < 0 { return nil }
            if entry.hash == hash && addresses[Int(entry.index)] == address { return Int(entry.index) }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ address: PeerAddress, index: Int) {
        if (count + 1) * 2 > slots.count { grow() }
        place(Self.hash(address), Int32(index))
        count += 1
    }

    private mutating func place(_ hash: UInt64, _ index: Int32) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot].index >= 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash, index)
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: (0, -1), count: old.count * 2)
        for entry in old where entry.index >= 0 { place(entry.hash, entry.index) }
    }
}
