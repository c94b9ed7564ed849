import Foundation
import Testing
@testable import Kernels

/// The embedded sources must match kernels/*.cl (regenerate with
/// `python3 scripts/embed-kernels.py`).
@Test func embeddedSourcesAreCurrent() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let dir = root.appendingPathComponent("kernels")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cl") }
    #expect(Set(files) == Set(KernelSources.all.keys))
    for f in files {
        let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        #expect(KernelSources.source(f) == trimmed, "\(f) is stale: run scripts/embed-kernels.py")
    }
}

@Test func precisionDefines() {
    #expect(KernelSources.precisionDefine(bits: 64, complex: false) == "-DPRECISION=64")
    #expect(KernelSources.precisionDefine(bits: 32, complex: true) == "-DPRECISION=3232")
}
