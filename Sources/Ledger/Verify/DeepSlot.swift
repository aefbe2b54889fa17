import LedgerFormat
import MerkleLog
import Sodium

/// One entry's decrypted contents between opening it and checking it: deep verify opens two entries, hashes their
/// fields digests' frames together (two SHA-256 lanes), then checks each. Holds plaintext: `wipe` zeroes what was
/// used (after every pair of entries).
final class DeepSlot {
    // One worker's, like its `DeepScratch`: no overlapping accesses, no dynamic exclusivity checks.
    /// The decrypted payload.
    @exclusivity(unchecked) private var plaintext = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    /// Views of the payload's values (into `plaintext`).
    @exclusivity(unchecked) var values: [UnsafeRawBufferPointer] = []
    /// The fields digest's frames (`LeafView.writeFieldFrames`) and their length.
    @exclusivity(unchecked) private var frameBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 16)
    @exclusivity(unchecked) private var used = (payload: 0, frames: 0)

    init() { values.reserveCapacity(64) }

    deinit {
        zeroize(plaintext)
        plaintext.deallocate()
        zeroize(frameBuffer)
        frameBuffer.deallocate()
    }

    /// A zeroed buffer of `count` bytes for the payload (valid until `wipe`).
    func payloadBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
        Self.ensure(&plaintext, count)
        used.payload = count
        return UnsafeMutableRawBufferPointer(rebasing: plaintext[0..<count])
    }

    /// Writes `leaf`'s fields digest frames from the payload's seed and `values`.
    func writeFrames(_ leaf: LeafView, seed: UnsafeRawBufferPointer, batch: DisclosureBatch) {
        let count = leaf.fieldFramesByteCount
        Self.ensure(&frameBuffer, count)
        used.frames = count
        leaf.writeFieldFrames(seed: seed, values: values, batch: batch,
                              into: UnsafeMutableRawBufferPointer(rebasing: frameBuffer[0..<count]))
    }

    /// The frames written by `writeFrames`.
    var frames: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: frameBuffer[0..<used.frames]) }

    /// Zeroes the payload and frames used and forgets the views into them.
    func wipe() {
        zeroize(UnsafeMutableRawBufferPointer(rebasing: plaintext[0..<used.payload]))
        zeroize(UnsafeMutableRawBufferPointer(rebasing: frameBuffer[0..<used.frames]))
        used = (0, 0)
        values.removeAll(keepingCapacity: true)
    }

    /// Grows `buffer` (zeroing the old one) to at least `count` bytes.
    private static func ensure(_ buffer: inout UnsafeMutableRawBufferPointer, _ count: Int) {
        guard count > buffer.count else { return }
        zeroize(buffer)
        buffer.deallocate()
        buffer = .allocate(byteCount: max(count, 2 * buffer.count), alignment: 16)
    }
}
