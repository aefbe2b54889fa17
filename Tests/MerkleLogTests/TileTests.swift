import MerkleLog
import XCTest

/// c2sp.org/tlog-tiles math: paths, which tiles a tree of a given size has, and what a tile holds.
final class TileTests: XCTestCase {
    func testIndexPathsFromTheSpec() {
        XCTAssertEqual(Tile.indexPath(1_234_067), "x001/x234/067")
        XCTAssertEqual(Tile.indexPath(0), "000")
        XCTAssertEqual(Tile.indexPath(7), "007")
        XCTAssertEqual(Tile.indexPath(999), "999")
        XCTAssertEqual(Tile.indexPath(1000), "x001/000")
        XCTAssertEqual(Tile.indexPath(1_000_000), "x001/x000/000")
    }

    func testTileAndEntryBundlePaths() {
        XCTAssertEqual(Tile(level: 0, index: 1_234_067, width: 256).path, "tile/0/x001/x234/067")
        XCTAssertEqual(Tile(level: 1, index: 3, width: 17).path, "tile/1/003.p/17")
        XCTAssertEqual(Tile(level: 0, index: 273, width: 112).entriesPath, "tile/entries/273.p/112")
        XCTAssertEqual(Tile(level: 0, index: 5, width: 256).entriesPath, "tile/entries/005")
    }

    /// The spec's example: 70,000 records are 273 full level-0 tiles, a level-0 partial of 112, one full level-1
    /// tile, a level-1 partial of 17 and a level-2 partial of 1.
    func testTilesOfTheSpecExample() {
        let tiles = Tile.tiles(treeSize: 70_000)
        XCTAssertEqual(tiles.filter { $0.level == 0 && $0.isFull }.count, 273)
        XCTAssertEqual(tiles.filter { !$0.isFull }.map(\.path), ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"])
        XCTAssertEqual(tiles.filter { $0.level == 1 && $0.isFull }.map(\.path), ["tile/1/000"])
        XCTAssertEqual(tiles.count, 273 + 1 + 1 + 1 + 1)
    }

    func testTilesOfSmallAndBoundarySizes() {
        XCTAssertEqual(paths(0), [])
        XCTAssertEqual(paths(1), ["tile/0/000.p/1"])
        XCTAssertEqual(paths(255), ["tile/0/000.p/255"])
        XCTAssertEqual(paths(256), ["tile/0/000", "tile/1/000.p/1"], "the spec's size-256 example")
        XCTAssertEqual(paths(257), ["tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1"])
        XCTAssertEqual(paths(513), ["tile/0/000", "tile/0/001", "tile/0/002.p/1", "tile/1/000.p/2"])
        XCTAssertEqual(Tile.tiles(treeSize: 65536).filter { !$0.isFull }.map(\.path), ["tile/2/000.p/1"])
        XCTAssertEqual(Tile.tiles(treeSize: 65536).count, 256 + 1 + 1)
        XCTAssertEqual(Tile.tiles(treeSize: 65537).filter { !$0.isFull }.map(\.path),
                       ["tile/0/256.p/1", "tile/2/000.p/1"])
    }

    func testNewTilesAreWhatGrowthChanges() {
        XCTAssertEqual(Tile.newTiles(from: 300, to: 300), [])
        XCTAssertEqual(Tile.newTiles(from: 300, to: 301).map(\.path), ["tile/0/001.p/45"], "level 1 still holds 1")
        XCTAssertEqual(Tile.newTiles(from: 300, to: 600).map(\.path),
                       ["tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"])
        // Every tile of the new tree is either new or already in the old tree, unchanged.
        for (old, new) in [(0, 1), (1, 255), (255, 256), (256, 257), (1000, 70_000), (65535, 65537)] {
            let before = Set(Tile.tiles(treeSize: Int64(old))), after = Set(Tile.tiles(treeSize: Int64(new)))
            let added = Tile.newTiles(from: Int64(old), to: Int64(new))
            XCTAssertEqual(Set(added), after.subtracting(before), "\(old) → \(new)")
            XCTAssertEqual(added.count, Set(added).count)
        }
    }

    func testRecordRanges() {
        XCTAssertEqual(Tile(level: 0, index: 2, width: 88).recordRange, 512..<600)
        XCTAssertEqual(Tile(level: 1, index: 1, width: 17).recordRange, 65536..<(65536 + 17 * 256))
        XCTAssertEqual(Tile(level: 2, index: 0, width: 1).recordRange, 0..<65536)
    }

    /// Every hash of every tile equals MTH of the records it spans, computed by `TreeBuilder` from the leaf hashes
    /// alone; and the tiles' stored-hash indexes are those the tree stored.
    func testTileContentsAreTheSubtreeHashes() throws {
        let size = 66_000
        let leaves = (0..<size).map { recordHash(Array("leaf \($0)".utf8)) }
        var stored = [Int64: Hash]()
        var builder = TreeBuilder()
        for leaf in leaves { builder.append(leaf) { stored[$0] = $1 } }
        let store = MemoryStore(hashes: stored, limit: storedHashCount(Int64(size)))
        let tiles = Tile.tiles(treeSize: Int64(size))
        XCTAssertEqual(tiles.filter { $0.level == 1 }.map(\.path), ["tile/1/000", "tile/1/001.p/1"])
        for tile in tiles where tile.level > 0 || tile.index % 37 == 0 || !tile.isFull {
            let hashes = try store.readHashes(tile.storedHashIndexes)
            XCTAssertEqual(hashes.count, tile.width)
            let span = 1 << (Tile.height * tile.level)
            for (i, hash) in hashes.enumerated() {
                let start = Int(tile.recordRange.lowerBound) + i * span
                XCTAssertEqual(hash, subtreeRoot(leaves[start..<(start + span)]), "\(tile) hash \(i)")
            }
        }
    }

    private func paths(_ size: Int64) -> [String] { Tile.tiles(treeSize: size).map(\.path) }

    private func subtreeRoot(_ leaves: ArraySlice<Hash>) -> Hash {
        var builder = TreeBuilder()
        for leaf in leaves { builder.append(leaf) }
        return builder.rootHash()
    }
}
