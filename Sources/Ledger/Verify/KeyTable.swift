import MerkleLog

/// Every stored key's kind and matter, by key id: parallel arrays in id order, each matter's tag stored once.
/// A ledger holds one batch key per matter per import batch, ~122,000 at 10,000,000 entries: dictionaries of
/// id → kind and id → tag took ~10 MiB of verify's memory there, these arrays ~1 MiB. Ids are allocated in
/// sequence, so a lookup is one index (id − first id), or a binary search where ids have gaps (destroyed keys).
struct KeyTable: Sendable {
    typealias Slot = Int

    private var ids: [UInt32] = []
    private var kinds: [KeyDirectory.Kind] = []
    /// Each key's matter number + 1 (0: no matter yet).
    private var matters: [UInt32] = []
    /// A batch key's key pair id (0 for other keys), until `dropLinks`.
    private var links: [UInt32] = []
    private var tags: [Hash] = []
    private var numbers: [Hash: UInt32] = [:]

    var slots: Range<Slot> { ids.indices }

    mutating func append(_ id: UInt32, _ kind: KeyDirectory.Kind, link: UInt32 = 0) {
        ids.append(id)
        kinds.append(kind)
        matters.append(0)
        links.append(link)
    }

    /// Puts the keys in id order (a cursor reads them in that order already: this only guards a damaged file).
    /// Returns false if an id occurs twice.
    mutating func sortByID() -> Bool {
        if zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }) { return true }
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        (ids, kinds, links) = (order.map { ids[$0] }, order.map { kinds[$0] }, order.map { links[$0] })
        return zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }
    }

    func slot(of id: UInt32) -> Slot? {
        guard let first = ids.first else { return nil }
        let guess = Int(id) - Int(first)
        if guess >= 0, guess < ids.count, ids[guess] == id { return guess }  // no gap below this id
        var low = 0, high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < ids.count && ids[low] == id ? low : nil
    }

    func id(_ slot: Slot) -> UInt32 { ids[slot] }
    func kind(_ slot: Slot) -> KeyDirectory.Kind { kinds[slot] }
    /// The key pair a batch key is sealed to.
    func link(_ slot: Slot) -> UInt32 { links[slot] }

    func matter(_ slot: Slot) -> Hash? {
        matters[slot] == 0 ? nil : tags[Int(matters[slot]) - 1]
    }

    func matterNumber(_ slot: Slot) -> UInt32? {
        matters[slot] == 0 ? nil : matters[slot] - 1
    }

    mutating func setMatter(_ slot: Slot, number: UInt32?) {
        matters[slot] = number.map { $0 + 1 } ?? 0
    }

    mutating func setMatter(_ slot: Slot, tag: Hash) {
        let number = numbers[tag] ?? {
            tags.append(tag)
            numbers[tag] = UInt32(tags.count - 1)
            return UInt32(tags.count - 1)
        }()
        setMatter(slot, number: number)
    }

    /// Frees the batch keys' key pair ids once every batch key's matter is known.
    mutating func dropLinks() { links = [] }
}
