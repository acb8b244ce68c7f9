/// Pending ids of one node (timers or exchanges) → generation of their live queue entry.
///
/// Machines keep few of these pending: the first lives inline (no allocation, same cache line as
/// the node), a few more in a short array searched linearly, and past `linearMax` the rest move to
/// a dictionary. Generation 0 means "none" (generations start at 1).
struct TimerTable {
    static let linearMax = 16
    private var firstID: UInt64 = 0
    private var firstGeneration: UInt64 = 0
    private var more: [(id: UInt64, generation: UInt64)] = []
    private var overflow: [UInt64: UInt64]?

    var count: Int { (firstGeneration == 0 ? 0 : 1) + (overflow?.count ?? more.count) }

    subscript(id: UInt64) -> UInt64? {
        @inline(__always) get {
            if firstGeneration != 0 && firstID == id { return firstGeneration }
            if let overflow { return overflow[id] }
            for entry in more where entry.id == id { return entry.generation }
            return nil
        }
        set {
            if firstGeneration != 0 && firstID == id {
                firstGeneration = newValue ?? 0
                return
            }
            if let overflow, overflow[id] != nil || newValue != nil {
                self.overflow![id] = newValue
                return
            }
            if let position = more.firstIndex(where: { $0.id == id }) {
                if let newValue {
                    more[position].generation = newValue
                } else {
                    more.swapAt(position, more.count - 1)
                    more.removeLast()
                }
                return
            }
            guard let newValue else { return }
            if firstGeneration == 0 {
                firstID = id
                firstGeneration = newValue
            } else if more.count < Self.linearMax {
                more.append((id, newValue))
            } else {
                var table = Dictionary(uniqueKeysWithValues: more.map { ($0.id, $0.generation) })
                table[id] = newValue
                overflow = table
                more = []
            }
        }
    }

    mutating func removeAll() {
        firstGeneration = 0
        more.removeAll()
        overflow = nil
    }
}
