// c2sp.org/tlog-tiles: the tree served as static files. A tile is up to 256 consecutive hashes of one tree level
// (8·L for tile level L); readers rebuild the levels in between. Pure math: names, sets and contents. No I/O.

/// One hash tile (or, through `entriesPath`, the entry bundle of the same span): level, index and width.
public struct Tile: Hashable, Sendable, CustomStringConvertible {
    /// Tile height: each tile level spans 8 tree levels (tlog-tiles fixes it).
    public static let height = 8
    /// Hashes in a full tile: 2^height.
    public static let fullWidth = 1 << height

    /// Tile level L (0 to 63): its hashes are tree hashes of level 8·L.
    public let level: Int
    /// Index N of the tile within its level.
    public let index: Int64
    /// Number of hashes, 1 to 256; below 256 it is a partial tile.
    public let width: Int

    public init(level: Int, index: Int64, width: Int) {
        precondition(level >= 0 && level < 64 && index >= 0 && width >= 1 && width <= Tile.fullWidth,
                     "Tile: bad level \(level), index \(index) or width \(width)")
        self.level = level
        self.index = index
        self.width = width
    }

    public var isFull: Bool { width == Tile.fullWidth }

    /// The same tile at full width (the file that replaces a partial tile once it fills).
    public var full: Tile { Tile(level: level, index: index, width: Tile.fullWidth) }

    /// Bytes of the tile's file: 32 per hash.
    public var byteCount: Int { width * Hash.byteCount }

    /// `tile/<L>/<N>[.p/<W>]`, tlog-tiles "Merkle Tree".
    public var path: String { "tile/\(level)/" + Tile.indexPath(index) + widthSuffix }

    /// `tile/entries/<N>[.p/<W>]`: the entry bundle of the records a level-0 tile hashes.
    public var entriesPath: String {
        precondition(level == 0, "entry bundles exist for level-0 tiles only")
        return "tile/entries/" + Tile.indexPath(index) + widthSuffix
    }

    private var widthSuffix: String { isFull ? "" : ".p/\(width)" }

    public var description: String { path }

    /// N as zero-padded 3-digit path elements, all but the last prefixed `x`: 1234067 → `x001/x234/067`.
    public static func indexPath(_ n: Int64) -> String {
        precondition(n >= 0, "Tile.indexPath: negative index \(n)")
        var groups = [String(n % 1000)]
        var rest = n / 1000
        while rest > 0 {
            groups.append(String(rest % 1000))
            rest /= 1000
        }
        var parts = groups.reversed().map { String(repeating: "0", count: 3 - $0.count) + $0 }
        for i in 0..<(parts.count - 1) { parts[i] = "x" + parts[i] }
        return parts.joined(separator: "/")
    }

    /// The records the tile's hashes span: [N·256^(L+1), N·256^(L+1) + W·256^L), tlog-tiles start/end index.
    public var recordRange: Range<Int64> {
        let span = Int64(1) << (Tile.height * level)
        let start = index << (Tile.height * (level + 1))
        return start..<(start + Int64(width) * span)
    }

    /// The stored-hash indexes of the tile's hashes, in order: hash i is
    /// MTH(D[(N·256+i)·256^L : (N·256+i+1)·256^L]), the tree node at level 8·L, position N·256 + i.
    public var storedHashIndexes: [Int64] {
        let first = index << Tile.height
        return (0..<Int64(width)).map { storedHashIndex(level: Tile.height * level, n: first + $0) }
    }
}

extension Tile {
    /// Every tile of a tree of `size` records (full tiles, then the partial one, level by level).
    public static func tiles(treeSize size: Int64) -> [Tile] {
        newTiles(from: 0, to: size)
    }

    /// The tiles a tree of `newSize` records has that a tree of `oldSize` records lacks (a grown partial tile
    /// counts as new: its path names its width). Requires 0 <= oldSize <= newSize.
    public static func newTiles(from oldSize: Int64, to newSize: Int64) -> [Tile] {
        precondition(oldSize >= 0 && oldSize <= newSize, "Tile.newTiles: need 0 <= \(oldSize) <= \(newSize)")
        var tiles: [Tile] = []
        var level = 0
        // Level L holds floor(size / 256^L) hashes: full tiles of 256, then a partial of the rest (tlog-tiles).
        while level < 64 && newSize >> (height * level) > 0 {
            let oldCount = oldSize >> (height * level), newCount = newSize >> (height * level)
            if oldCount != newCount {
                for n in (oldCount >> height)..<(newCount >> height) {
                    tiles.append(Tile(level: level, index: n, width: fullWidth))
                }
                let rest = Int(newCount & Int64(fullWidth - 1))
                if rest > 0 { tiles.append(Tile(level: level, index: newCount >> height, width: rest)) }
            }
            level += 1
        }
        return tiles
    }
}
